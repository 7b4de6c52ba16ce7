document.getElementById('app').textContent = 'Motey';
