using System.Buffers.Binary;
using Aicp.SampleAgents.Labelling;
using Aicp.SampleAgents.Labelling.Model;

namespace Aicp.Tests.SampleAgents.Labelling;

public class ModelFileTests
{
    [Fact]
    public void Serialize_Float32RoundTrip_ExactWeights()
    {
        MlpModel model = MlpModel.CreateInitial([784, 16, 10], seed: 5);

        MlpModel read = ModelFile.Deserialize(ModelFile.Serialize(model, ModelFile.Float32));

        Assert.Equal(model.Dims, read.Dims);
        for (int l = 0; l < model.LayerCount; l++)
        {
            Assert.Equal(model.Weights[l], read.Weights[l]);
            Assert.Equal(model.Biases[l], read.Biases[l]);
        }
    }

    [Fact]
    public void Serialize_Float16RoundTrip_HalfPrecisionWeights()
    {
        MlpModel model = MlpModel.CreateInitial([784, 16, 10], seed: 5);

        byte[] bytes = ModelFile.Serialize(model, ModelFile.Float16);
        MlpModel read = ModelFile.Deserialize(bytes);

        Assert.Equal(8 + 4 * 3 + 2 * (int)model.ParameterCount + 4, bytes.Length);
        for (int i = 0; i < model.Weights[0].Length; i++)
        {
            Assert.Equal((float)(Half)model.Weights[0][i], read.Weights[0][i]);
        }
    }

    [Fact]
    public void Deserialize_ShippedFile_HeaderDescribesSmallMlp()
    {
        string path = Path.Combine(AppContext.BaseDirectory, DigitLabeller.DefaultModelRelativePath);
        byte[] bytes = File.ReadAllBytes(path);

        MlpModel model = ModelFile.Deserialize(bytes);

        Assert.Equal("AMLP"u8.ToArray(), bytes[..4]);
        Assert.True(bytes.Length < 1024 * 1024, $"shipped weights are {bytes.Length} bytes");
        Assert.Equal([784, 256, 10], model.Dims);
    }

    [Theory]
    [InlineData(0)]      // magic
    [InlineData(4)]      // version
    [InlineData(6)]      // element type
    [InlineData(12)]     // a layer width
    public void Deserialize_CorruptedByte_ThrowsInvalidData(int offset)
    {
        byte[] bytes = ModelFile.Serialize(MlpModel.CreateInitial([784, 16, 10], seed: 1));
        bytes[offset] ^= 0x5A;

        Assert.Throws<InvalidDataException>(() => ModelFile.Deserialize(bytes));
    }

    [Fact]
    public void Serialize_Trailer_IsZlibCrc32OfPrecedingBytes()
    {
        // Checked against the tests' own bit-by-bit CRC-32, the polynomial the shipped weights file was written with.
        byte[] bytes = ModelFile.Serialize(MlpModel.CreateInitial([784, 16, 10], seed: 1));

        Assert.Equal(TestPng.Crc(bytes.AsSpan(..^4)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(^4..)));
    }

    [Theory]
    [InlineData(5000)]   // a weight
    [InlineData(-3)]     // the stored CRC itself (offset from the end)
    public void Deserialize_FlippedByteOutsideHeader_ThrowsChecksumMismatch(int offset)
    {
        byte[] bytes = ModelFile.Serialize(MlpModel.CreateInitial([784, 16, 10], seed: 1));
        bytes[offset >= 0 ? offset : bytes.Length + offset] ^= 0x01;

        var ex = Assert.Throws<InvalidDataException>(() => ModelFile.Deserialize(bytes));

        Assert.Contains("checksum mismatch", ex.Message);
    }

    [Fact]
    public void Deserialize_Truncated_ThrowsInvalidData()
    {
        byte[] bytes = ModelFile.Serialize(MlpModel.CreateInitial([784, 16, 10], seed: 1));

        Assert.Throws<InvalidDataException>(() => ModelFile.Deserialize(bytes[..^2]));
    }
}
