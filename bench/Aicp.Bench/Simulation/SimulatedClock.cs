namespace Aicp.Bench.Simulation;

/// <summary>
/// The simulation's clock: time moves only when the event loop says so. Timestamps are 100 ns ticks, so
/// the hub's agent state (peak EWMA, breaker, slow start) runs on simulated time exactly as on real time.
/// Timers are not supported: the event loop schedules everything itself.
/// </summary>
internal sealed class SimulatedClock : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public long Ticks { get; private set; }

    public double NowMs => Ticks / (double)TimeSpan.TicksPerMillisecond;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Ticks;

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(Ticks);

    public void AdvanceTo(long ticks)
    {
        if (ticks < Ticks)
        {
            throw new InvalidOperationException("Simulated time cannot go backwards.");
        }

        Ticks = ticks;
    }

    public static long FromMs(double ms) => (long)Math.Round(ms * TimeSpan.TicksPerMillisecond);
}
