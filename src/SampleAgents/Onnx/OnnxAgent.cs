using System.Net.Security;
using Aicp.Agent.Sdk.Agent;
using Aicp.Agent.Sdk.Batching;
using Aicp.Agent.Sdk.Connection;
using Aicp.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Aicp.SampleAgents.Onnx;

/// <summary>
/// How a model agent connects and serves. <paramref name="BatchWait"/>: how long a batch waits for more tasks (default
/// 2 ms); <paramref name="CertificateValidation"/>: the hub's TLS certificate check for an https:// hub (null: the system's trust store).
/// </summary>
internal sealed record OnnxAgentSettings(
    string HubUrl, string AgentId, string Capability, int Concurrency = 16, int BatchSize = 1, HubProtocol Protocol = HubProtocol.Json,
    string? AccessToken = null, TimeSpan? BatchWait = null, RemoteCertificateValidationCallback? CertificateValidation = null);

/// <summary>
/// An agent that serves any ONNX model with float32 tensor inputs as one capability: each task carries named tensors
/// (<see cref="TensorRequest"/>) and gets the model's outputs back (<see cref="TensorResult"/>). With a batch size
/// above 1 it serves through the SDK's <see cref="AicpAgent.HandleBatch"/>: the tasks of a batch are stacked along the
/// first dimension into one <see cref="OnnxModel.Run"/> and the outputs cut back apart, when the model's dimensions
/// allow it (<see cref="OnnxModel.BatchesAlongFirstDimension"/>); a bad task fails alone.
/// </summary>
internal static class OnnxAgent
{
    public static AicpAgent Create(OnnxAgentSettings settings, OnnxModel model, ILoggerFactory? loggerFactory = null)
    {
        var agent = new AicpAgent(new AgentOptions
        {
            HubUrl = settings.HubUrl,
            AgentId = settings.AgentId,
            MaxConcurrency = settings.Concurrency,
            Protocol = settings.Protocol,
            AccessToken = settings.AccessToken,
            RemoteCertificateValidationCallback = settings.CertificateValidation,
            Metadata = new()
            {
                ["model"] = model.Name,
                ["provider"] = model.Provider,
                ["inputs"] = string.Join("; ", model.Inputs),
                ["outputs"] = string.Join("; ", model.Outputs),
            },
        }, loggerFactory);

        // Payloads are read as they arrived (TaskPayload: MessagePack bytes, or JSON) and results are built as
        // MessagePack, which the SDK sends as they are (as JSON on a JSON connection).
        if (settings.BatchSize > 1)
        {
            agent.HandleBatch<TaskPayload?, TaskPayload>(settings.Capability, (batch, _) =>
            {
                RunBatch(model, batch, settings.AgentId);
                return ValueTask.CompletedTask;
            }, new BatchOptions { MaxBatchSize = settings.BatchSize, MaxWait = settings.BatchWait ?? TimeSpan.FromMilliseconds(2) });
            return agent;
        }

        agent.Handle<TaskPayload>(settings.Capability, (task, _) =>
        {
            TensorRequest request = TensorRequest.Read(task.Payload, model);
            return ValueTask.FromResult(Result(RunOne(model, request), request, model, settings.AgentId));
        });
        return agent;
    }

    /// <summary>
    /// Gives every item of <paramref name="batch"/> its own outcome: requests that read and share their shapes beyond
    /// the first dimension run together, once per group; the rest run alone.
    /// </summary>
    internal static void RunBatch(OnnxModel model, IReadOnlyList<BatchItem<TaskPayload?, TaskPayload>> batch, string agentId)
    {
        var requests = new List<(BatchItem<TaskPayload?, TaskPayload> Item, TensorRequest Request)>(batch.Count);
        foreach (var item in batch)
        {
            try
            {
                requests.Add((item, TensorRequest.Read(item.Request, model)));
            }
            catch (AgentTaskException ex)
            {
                item.Fail(ex.Code, ex.Message);
            }
        }

        foreach (var members in Groups(model, requests))
        {
            IReadOnlyList<IReadOnlyList<FloatTensor>>? outputs = members.Count > 1 ? TryRunStacked(model, members.Select(m => m.Request).ToList()) : null;
            for (int i = 0; i < members.Count; i++)
            {
                var (item, request) = members[i];
                try
                {
                    item.Succeed(Result(outputs?[i] ?? RunOne(model, request), request, model, agentId));
                }
                catch (AgentTaskException ex)
                {
                    item.Fail(ex.Code, ex.Message);
                }
            }
        }
    }

    private static TaskPayload Result(IReadOnlyList<FloatTensor> outputs, TensorRequest request, OnnxModel model, string agentId) =>
        TaskPayload.FromMessagePack(TensorResult.Write(outputs, request.Binary, model.Name, agentId));

    /// <summary>Runs one request.</summary>
    /// <exception cref="AgentTaskException"><see cref="TensorErrorCodes.InferenceFailed"/> when ONNX Runtime refuses the inputs.</exception>
    internal static IReadOnlyList<FloatTensor> RunOne(OnnxModel model, TensorRequest request)
    {
        try
        {
            return model.Run(request.Inputs, request.Outputs);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new AgentTaskException(TensorErrorCodes.InferenceFailed, ex.Message.Split('\n', 2)[0]);
        }
    }

    /// <summary>
    /// Requests stack when the model batches along the first dimension, every input of a request has the same rows
    /// there, and the requests ask for the same outputs with the same dimensions past the first. Others run alone.
    /// </summary>
    private static List<List<(BatchItem<TaskPayload?, TaskPayload> Item, TensorRequest Request)>> Groups(
        OnnxModel model, List<(BatchItem<TaskPayload?, TaskPayload> Item, TensorRequest Request)> requests)
    {
        var groups = new List<List<(BatchItem<TaskPayload?, TaskPayload>, TensorRequest)>>();
        var byKey = new Dictionary<string, List<(BatchItem<TaskPayload?, TaskPayload>, TensorRequest)>>(StringComparer.Ordinal);
        foreach (var entry in requests)
        {
            TensorRequest request = entry.Request;
            if (!model.BatchesAlongFirstDimension || request.Rows is null)
            {
                groups.Add([entry]);
                continue;
            }

            string key = string.Join("|", request.Inputs.Select(t => string.Join(",", t.Shape.Skip(1)))) + "|" + string.Join(",", request.Outputs);
            if (!byKey.TryGetValue(key, out var group))
            {
                byKey[key] = group = [];
                groups.Add(group);
            }

            group.Add(entry);
        }

        return groups;
    }

    /// <summary>
    /// One run for all <paramref name="requests"/>, stacked along the first dimension; the outputs cut back per request.
    /// Null when the run fails or an output does not keep the stacked rows, so each request then runs alone and gets its own outcome.
    /// </summary>
    private static IReadOnlyList<IReadOnlyList<FloatTensor>>? TryRunStacked(OnnxModel model, IReadOnlyList<TensorRequest> requests)
    {
        long[] rows = requests.Select(r => r.Rows!.Value).ToArray();
        long total = rows.Sum();
        var stacked = new FloatTensor[requests[0].Inputs.Count];
        for (int k = 0; k < stacked.Length; k++)
        {
            FloatTensor first = requests[0].Inputs[k];
            long[] shape = [total, .. first.Shape[1..]];
            var data = new float[requests.Sum(r => r.Inputs[k].Data.Length)];
            int offset = 0;
            foreach (TensorRequest request in requests)
            {
                request.Inputs[k].Data.CopyTo(data, offset);
                offset += request.Inputs[k].Data.Length;
            }

            stacked[k] = new FloatTensor(first.Name, shape, data);
        }

        IReadOnlyList<FloatTensor> outputs;
        try
        {
            outputs = model.Run(stacked, requests[0].Outputs);
        }
        catch (OnnxRuntimeException)
        {
            return null;
        }

        if (outputs.Any(o => o.Shape.Length == 0 || o.Shape[0] != total))
        {
            return null;
        }

        var results = new IReadOnlyList<FloatTensor>[requests.Count];
        long start = 0;
        for (int r = 0; r < requests.Count; r++)
        {
            results[r] = outputs.Select(o =>
            {
                long perRow = o.Data.Length / total;
                return new FloatTensor(o.Name, [rows[r], .. o.Shape[1..]], o.Data.AsSpan((int)(start * perRow), (int)(rows[r] * perRow)).ToArray());
            }).ToArray();
            start += rows[r];
        }

        return results;
    }
}
