namespace Aicp.Hub.FrontDoors;

/// <summary>
/// Endpoint metadata of an HTTP front door: its name (the <c>door</c> metric label) and how it writes a refusal in its
/// own error shape, so that even a request refused by authorization (401, 403) gets that shape.
/// </summary>
/// <param name="WriteError">Writes an error body with the status code, the machine-readable code and a message.</param>
internal sealed record FrontDoorMetadata(string Door, Func<HttpContext, int, string, string, Task> WriteError);
