// A bare Kestrel app: the limit the agent's REST API is measured against. It answers GET /v1/capabilities and
// GET /v1/service with bytes captured from a seeded agent (files given on the command line), and GET /ping with 200.
// Usage: motey-bench-bare --urls http://ADDRESS:PORT [--capabilities FILE] [--service FILE]

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

const string Json = "application/json; charset=utf-8";
var capabilities = Body(builder.Configuration["capabilities"]);
var services = Body(builder.Configuration["service"]);

app.MapGet("/v1/capabilities", () => Results.Bytes(capabilities, Json));
app.MapGet("/v1/service", () => Results.Bytes(services, Json));
app.MapGet("/ping", () => Results.Ok());
app.Run();

static byte[] Body(string? path) => path is null ? "[]"u8.ToArray() : File.ReadAllBytes(path);
