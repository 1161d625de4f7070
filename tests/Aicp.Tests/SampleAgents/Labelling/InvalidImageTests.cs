using Aicp.SampleAgents.Labelling;

namespace Aicp.Tests.SampleAgents.Labelling;

public class InvalidImageTests
{
    private const int Side = 28;
    private static readonly Lazy<DigitLabeller> Labeller = new(DigitLabeller.LoadDefault);

    public static TheoryData<string, byte[]> InvalidImages()
    {
        byte[] grey = new byte[Side * Side];
        byte[] valid = TestPng.Encode(Side, Side, 0, grey);
        byte[] scanlines = TestPng.Filter(Side, Side, 1, grey, _ => 0);
        byte[] ihdr = TestPng.Ihdr(Side, Side, 8, 0);

        byte[] badCrc = (byte[])valid.Clone();
        badCrc[8 + 8 + 3] ^= 0x01; // flip a bit of IHDR's width, leaving its CRC stale

        byte[] badAdler = TestPng.Compress(scanlines);
        badAdler[^1] ^= 0xFF;

        byte[] badFilter = TestPng.Filter(Side, Side, 1, grey, y => y == 5 ? 7 : 0);

        return new TheoryData<string, byte[]>
        {
            { InvalidImageCodes.InvalidImage, [] },
            { InvalidImageCodes.InvalidImage, new byte[783] },
            { InvalidImageCodes.InvalidImage, new byte[785] },
            { InvalidImageCodes.InvalidPngSignature, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0B, .. valid[8..]] },
            { InvalidImageCodes.InvalidPngSignature, [0x89, 0x50, 0x4E, 0x47] },
            { InvalidImageCodes.PngChecksumMismatch, badCrc },
            { InvalidImageCodes.CorruptPng, TestPng.Assemble(ihdr, [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0x00]) },
            { InvalidImageCodes.CorruptPng, TestPng.Assemble(ihdr, badAdler) },
            { InvalidImageCodes.CorruptPng, TestPng.Assemble(ihdr, TestPng.Compress(scanlines[..^10])) },
            { InvalidImageCodes.CorruptPng, TestPng.Assemble(ihdr, TestPng.Compress([.. scanlines, 0, 0])) },
            { InvalidImageCodes.CorruptPng, TestPng.Assemble(ihdr, TestPng.Compress(badFilter)) },
            { InvalidImageCodes.CorruptPng, valid[..^12] },                                  // no IEND
            { InvalidImageCodes.CorruptPng, valid[..^20] },                                  // truncated mid-chunk
            { InvalidImageCodes.CorruptPng, TestPng.File(TestPng.Chunk("IHDR", ihdr), TestPng.Chunk("IEND", [])) }, // no IDAT
            { InvalidImageCodes.CorruptPng, TestPng.File(TestPng.Chunk("IDAT", TestPng.Compress(scanlines)), TestPng.Chunk("IEND", [])) }, // no IHDR
            { InvalidImageCodes.CorruptPng, TestPng.Assemble(TestPng.Ihdr(Side, Side, 8, 5), TestPng.Compress(scanlines)) }, // colour type 5
            { InvalidImageCodes.UnsupportedPng, TestPng.Assemble(TestPng.Ihdr(Side, Side, 8, 3), TestPng.Compress(scanlines)) }, // palette
            { InvalidImageCodes.UnsupportedPng, TestPng.Assemble(TestPng.Ihdr(Side, Side, 16, 0), TestPng.Compress(scanlines)) }, // 16-bit
            { InvalidImageCodes.UnsupportedPng, TestPng.Assemble(TestPng.Ihdr(Side, Side, 1, 0), TestPng.Compress(scanlines)) }, // 1-bit
            { InvalidImageCodes.UnsupportedPng, TestPng.Assemble(TestPng.Ihdr(Side, Side, 8, 0, interlace: 1), TestPng.Compress(scanlines)) },
            { InvalidImageCodes.UnsupportedPng, TestPng.File(TestPng.Chunk("IHDR", ihdr), TestPng.Chunk("ZZZZ", []), TestPng.Chunk("IDAT", TestPng.Compress(scanlines)), TestPng.Chunk("IEND", [])) },
            { InvalidImageCodes.WrongDimensions, TestPng.Encode(27, 28, 0, new byte[27 * 28]) },
            { InvalidImageCodes.WrongDimensions, TestPng.Encode(56, 56, 0, new byte[56 * 56]) },
            { InvalidImageCodes.WrongDimensions, TestPng.Encode(1, 1, 6, new byte[4]) },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidImages))]
    public void Classify_InvalidImage_ThrowsInvalidImageExceptionWithCode(string expectedCode, byte[] image)
    {
        var ex = Assert.Throws<InvalidImageException>(() => Labeller.Value.Classify(image));

        Assert.Equal(expectedCode, ex.Code);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        Assert.Null(ex.BatchIndex);
    }

    [Fact]
    public void Classify_BatchWithOneInvalidImage_ThrowsWithBatchIndex()
    {
        ReadOnlyMemory<byte>[] batch = [new byte[784], new byte[784], new byte[10]];

        var ex = Assert.Throws<InvalidImageException>(() => Labeller.Value.Classify(batch));

        Assert.Equal(InvalidImageCodes.InvalidImage, ex.Code);
        Assert.Equal(2, ex.BatchIndex);
        Assert.StartsWith("image 2:", ex.Message);
    }

    [Fact]
    public void Classify_RandomBytesAfterPngSignature_OnlyThrowsInvalidImageException()
    {
        var rng = new Random(1234);
        byte[] valid = TestPng.Encode(Side, Side, 6, PngDecoderTests.Pattern(6).Samples, 4);
        for (int trial = 0; trial < 500; trial++)
        {
            byte[] mutated = (byte[])valid.Clone();
            int flips = 1 + rng.Next(4);
            for (int f = 0; f < flips; f++)
            {
                mutated[8 + rng.Next(mutated.Length - 8)] = (byte)rng.Next(256);
            }

            try
            {
                Labeller.Value.Classify(mutated);
            }
            catch (InvalidImageException)
            {
                // expected for almost every mutation; any other exception type fails the test
            }
        }
    }
}
