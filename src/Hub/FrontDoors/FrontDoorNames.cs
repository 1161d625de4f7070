namespace Aicp.Hub.FrontDoors;

/// <summary>
/// The ways a task enters the hub, as the <c>door</c> label of <c>aicp_front_door_requests_total</c>: a closed set, so
/// the label stays bounded. Every door hands its tasks to the same dispatcher.
/// </summary>
internal static class FrontDoorNames
{
    /// <summary><c>Submit</c> on the SignalR hub.</summary>
    public const string SignalR = "signalr";

    /// <summary><c>SubmitStream</c> on the SignalR hub.</summary>
    public const string SignalRStream = "signalr_stream";

    /// <summary><c>POST /v1/tasks</c>.</summary>
    public const string Http = "http";

    /// <summary><c>POST /v1/chat/completions</c> and <c>GET /v1/models</c>, the OpenAI-compatible door.</summary>
    public const string OpenAi = "openai";

    public static readonly string[] All = [SignalR, SignalRStream, Http, OpenAi];

    /// <summary>A request a door refused before it became a task (malformed JSON, a body that is not a request, oversize body).</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>A request refused for want of a valid credential (HTTP 401).</summary>
    public const string Unauthorized = "unauthorized";
}
