using Aicp.SampleAgents.Labelling.Data;

namespace Aicp.Tests.SampleAgents.Labelling;

public class DigitSampleTests
{
    [Fact]
    public void WriteRead_RoundTrip_SameDigits()
    {
        var sample = new DigitSample([3, 0, 9], [.. Enumerable.Range(0, 3 * 784).Select(i => (byte)(i * 7))]);
        string path = Path.Combine(Path.GetTempPath(), $"sample-{Guid.NewGuid():N}.bin");
        try
        {
            sample.Write(path);
            DigitSample read = DigitSample.Read(path);

            Assert.Equal(sample.Labels, read.Labels);
            Assert.Equal(sample.Pixels, read.Pixels);
            Assert.True(new FileInfo(path).Length < sample.Pixels.Length, "the digits are stored compressed");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("magic")]
    [InlineData("count")]
    [InlineData("truncated")]
    [InlineData("flipped")]
    public void Read_DamagedFile_InvalidData(string damage)
    {
        var sample = new DigitSample([1, 2], new byte[2 * 784]);
        string path = Path.Combine(Path.GetTempPath(), $"sample-{Guid.NewGuid():N}.bin");
        try
        {
            sample.Write(path);
            byte[] bytes = File.ReadAllBytes(path);
            switch (damage)
            {
                case "magic": bytes[0] = (byte)'X'; break;
                case "count": bytes[8] = 3; break;
                case "truncated": bytes = bytes[..^6]; break;
                case "flipped": bytes[^1] ^= 0xFF; break; // the Adler-32 checksum
            }

            File.WriteAllBytes(path, bytes);

            Assert.Throws<InvalidDataException>(() => DigitSample.Read(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
