// Lower-case hexadecimal, the spelling of every digest Pitstop keeps or shows: migration
// checksums, the audit chain's hashes, token digests and key fingerprints.

public enum Hex {
    /// Two lower-case hex digits per byte, as ASCII bytes.
    public static func bytes(_ data: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.underestimatedCount * 2)
        for byte in data {
            out.append(digit(byte >> 4))
            out.append(digit(byte & 0xf))
        }
        return out
    }

    /// Two lower-case hex digits per byte.
    public static func string(_ data: some Sequence<UInt8>) -> String {
        String(decoding: bytes(data), as: UTF8.self)
    }

    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
