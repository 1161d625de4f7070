using Aicp.Hub.Routing;
using Aicp.Tests.Infrastructure;

namespace Aicp.Tests.Hub.Routing;

public sealed class CompletionForecastTests
{
    private const string Method = RoutingFixture.Method;

    [Fact]
    public void EarliestMs_AnAgentWithoutHistory_NoForecast()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        agents[0].RecordCompletion(Method, 100, ok: true, f.Time.GetUtcNow(), 0);
        Assert.Null(CompletionForecast.EarliestMs(f.Pool, new DefaultRandomSource(1), f.Time.GetTimestamp()));
    }

    [Fact]
    public void EarliestMs_FreeSlots_TheLowestPredictedCompletion()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2);
        for (var i = 0; i < 50; i++)
        {
            agents[0].RecordCompletion(Method, 40, ok: true, f.Time.GetUtcNow(), 0);
            agents[1].RecordCompletion(Method, 100, ok: true, f.Time.GetUtcNow(), 0);
        }

        var forecast = CompletionForecast.EarliestMs(f.Pool, new DefaultRandomSource(1), f.Time.GetTimestamp())!.Value;
        Assert.InRange(forecast, 40, 50); // agent 0's 40 ms, pulled a little toward the typical agent
    }

    [Fact]
    public void EarliestMs_EverySlotTaken_WaitByLittlesLawPlusService()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2, maxConcurrency: 1);
        foreach (var agent in agents)
        {
            for (var i = 0; i < 100; i++)
            {
                agent.RecordCompletion(Method, 20, ok: true, f.Time.GetUtcNow(), 0);
            }

            RoutingFixture.Load(agent, 1);
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull(f.Pool.Waiters.TryEnqueue());
        }

        // each agent finishes 1 task per 20 ms: 0.1 per ms together; 3 waiting + this one start after 40 ms, then 20 ms of service
        var forecast = CompletionForecast.EarliestMs(f.Pool, new DefaultRandomSource(1), f.Time.GetTimestamp())!.Value;
        Assert.Equal(60, forecast, 0);
    }

    [Fact]
    public void EarliestMs_EveryAgentDraining_NoForecast()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2, maxConcurrency: 1);
        foreach (var agent in agents)
        {
            agent.RecordCompletion(Method, 20, ok: true, f.Time.GetUtcNow(), 0);
            RoutingFixture.Load(agent, 1);
            agent.StartDraining();
        }

        Assert.Null(CompletionForecast.EarliestMs(f.Pool, new DefaultRandomSource(1), f.Time.GetTimestamp()));
    }

    [Fact]
    public void EarliestMs_EverySlotTakenBesideADrainingAgentWithoutHistory_ForecastFromTheServingAgents()
    {
        var f = new RoutingFixture();
        var agents = f.Agents(2, maxConcurrency: 1);
        for (var i = 0; i < 100; i++)
        {
            agents[0].RecordCompletion(Method, 20, ok: true, f.Time.GetUtcNow(), 0);
        }

        RoutingFixture.Load(agents[0], 1);
        agents[1].StartDraining(); // no history, but it takes no more work: it does not count

        // agent 0 finishes 1 task per 20 ms: this task starts after 20 ms, then 20 ms of service
        var forecast = CompletionForecast.EarliestMs(f.Pool, new DefaultRandomSource(1), f.Time.GetTimestamp())!.Value;
        Assert.Equal(40, forecast, 0);
    }
}
