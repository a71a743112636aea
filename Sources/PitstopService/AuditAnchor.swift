// Anchoring the audit log outside the database, as transparency logs do with signed tree heads.
// The hash chain shows an edit only to someone who cannot recompute it; with the triggers
// dropped, anyone who can write the file can. So `audit checkpoint` signs the log's head (seq,
// hash, time) with an Ed25519 key that never enters the database, stores the signed head in the
// log and prints it for the operator to keep elsewhere. A rewrite of any entry up to a signed
// head changes that entry's hash, and a cut removes it: neither can be hidden without the key.
import Foundation
import Crypto
public import PitstopCore
#if canImport(Glibc)
import Glibc
#endif

/// The private half of an audit key, as `pitstop audit keygen` writes it: a PEM PKCS#8
/// Ed25519 key (`openssl pkey -in FILE -pubout` reads it), readable only by its owner.
public struct AuditSigningKey: Sendable {
    let key: Curve25519.Signing.PrivateKey

    /// The DER of a PKCS#8 Ed25519 private key before its 32-byte seed (RFC 8410).
    private static let pkcs8Prefix: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]

    init(key: Curve25519.Signing.PrivateKey) { self.key = key }

    /// A new random key.
    static func generate() -> AuditSigningKey { AuditSigningKey(key: Curve25519.Signing.PrivateKey()) }

    /// Reads the key file at `path`; refuses one that others may read.
    public init(file path: String) throws(PitstopError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw PitstopError(.invalid, "\(path): cannot read the audit key: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw PitstopError(.invalid, "\(path): the audit key may be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                + "make it readable only by its owner: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PitstopError(.invalid, "\(path): cannot read the audit key")
        }
        let text = String(decoding: data, as: UTF8.self)
        let body = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard body.first == "-----BEGIN PRIVATE KEY-----", let end = body.firstIndex(of: "-----END PRIVATE KEY-----"),
              let der = Data(base64Encoded: body[1..<end].joined()), der.count == 48, Array(der.prefix(16)) == Self.pkcs8Prefix,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)) else {
            throw PitstopError(.invalid, "\(path): not an Ed25519 private key in PEM (made by `pitstop audit keygen`)")
        }
        self.key = key
    }

    /// The PEM text of the key file.
    func pem() -> String {
        let der = Data(Self.pkcs8Prefix) + key.rawRepresentation
        return "-----BEGIN PRIVATE KEY-----\n\(der.base64EncodedString())\n-----END PRIVATE KEY-----\n"
    }

    /// The public half, as the database records it.
    public func record(createdAt: Timestamp) -> AuditKeyRecord {
        let raw = key.publicKey.rawRepresentation
        return AuditKeyRecord(publicKey: raw.base64EncodedString(), fingerprint: AuditCheckpoint.fingerprint(raw), createdAt: createdAt)
    }

    /// Writes the key to a new file at `path`, mode 0600; refuses a file that exists.
    func write(to path: String) throws(PitstopError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "it exists already; give a new file (a key is never overwritten)" : String(cString: strerror(errno))
            throw PitstopError(.invalid, "\(path): cannot write the audit key: \(reason)")
        }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        // Whatever the umask: only the owner reads it.
        fchmod(fd, 0o600)
        let bytes = Array(pem().utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress!, $0.count) }) == bytes.count, fsync(fd) == 0 else {
            throw PitstopError(.invalid, "\(path): cannot write the audit key: \(String(cString: strerror(errno)))")
        }
        ok = true
    }
}

/// A signed head of the audit log: entries 1 to `seq`, the last of them hashing to `hash`, as
/// seen at `at`, signed with the key `publicKey`. Stored in the log as the details of an
/// `audit.checkpoint` entry and printed, the same JSON, for the operator to keep.
public struct AuditCheckpoint: Sendable, Hashable {
    public var seq: Int64
    public var hash: String
    public var at: Timestamp
    /// Base64 of the 32-byte Ed25519 public key.
    public var publicKey: String
    /// Base64 of the 64-byte Ed25519 signature over ``signedText``.
    public var signature: String

    /// The first 16 hex digits of the SHA-256 of a raw public key.
    static func fingerprint(_ raw: Data) -> String {
        Hex.string(SHA256.hash(data: raw).prefix(8))
    }

    public var fingerprint: String { Data(base64Encoded: publicKey).map(Self.fingerprint) ?? "?" }

    /// What the signature covers: one line per field, so any tool can rebuild it.
    public static func signedText(seq: Int64, hash: String, at: Timestamp) -> String {
        "pitstop audit checkpoint v1\nseq \(seq)\nhash \(hash)\nat \(at.iso8601)\n"
    }

    /// Signs the head `seq`, `hash` at `at`.
    init(seq: Int64, hash: String, at: Timestamp, key: AuditSigningKey) throws {
        self.seq = seq
        self.hash = hash
        self.at = at
        publicKey = key.key.publicKey.rawRepresentation.base64EncodedString()
        signature = try key.key.signature(for: Data(Self.signedText(seq: seq, hash: hash, at: at).utf8)).base64EncodedString()
    }

    /// Whether the signature is `publicKey`'s over this head.
    public var signatureIsValid: Bool {
        guard let raw = Data(base64Encoded: publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
              let signature = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(signature, for: Data(Self.signedText(seq: seq, hash: hash, at: at).utf8))
    }

    /// One line of JSON: what `audit checkpoint` prints and the log stores.
    public var json: String {
        JSONText.object([
            ("seq", "\(seq)"), ("hash", JSONText.quote(hash)), ("at", JSONText.quote(at.iso8601)),
            ("key", JSONText.quote(fingerprint)), ("publicKey", JSONText.quote(publicKey)), ("signature", JSONText.quote(signature)),
        ])
    }

    /// Reads a checkpoint as `json` writes it; `source` names where it came from in messages.
    public init(json text: String, source: String) throws(PitstopError) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw PitstopError(.invalid, "\(source): not a checkpoint: expected the JSON object `pitstop audit checkpoint` printed")
        }
        func field(_ name: String, _ what: String, _ valid: (String) -> Bool) throws(PitstopError) -> String {
            guard let value = object[name] as? String, valid(value) else {
                throw PitstopError(.invalid, "\(source): field \(name): \(object[name] == nil ? "missing" : "not \(what)")")
            }
            return value
        }
        guard let seq = object["seq"] as? Int, seq >= 1 else {
            throw PitstopError(.invalid, "\(source): field seq: \(object["seq"] == nil ? "missing" : "not a whole number from 1")")
        }
        self.seq = Int64(seq)
        hash = try field("hash", "64 lower-case hex digits") { $0.utf8.count == 64 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } }
        let at = try field("at", "an ISO 8601 instant") { Timestamp(iso8601: $0) != nil }
        self.at = Timestamp(iso8601: at)!
        publicKey = try field("publicKey", "a base64 Ed25519 public key") { Data(base64Encoded: $0)?.count == 32 }
        signature = try field("signature", "a base64 Ed25519 signature") { Data(base64Encoded: $0)?.count == 64 }
    }

    /// Reads the checkpoint file at `path`.
    public init(file path: String) throws(PitstopError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PitstopError(.invalid, "\(path): cannot read the checkpoint file")
        }
        try self.init(json: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), source: path)
    }
}

/// Where `audit verify` found the log's anchoring.
public struct LogAnchoring: Sendable, Hashable {
    /// The `audit.checkpoint` entries stored in the log.
    public var checkpoints: Int
    /// The newest of them, as signed.
    public var latest: AuditCheckpoint?
    /// Checkpoints kept outside the database that verify was given.
    public var kept: Int
    /// How many of them the log still extends, signed by a recorded key.
    public var keptExtended: Int
    /// Entries after the newest signed head: a rewrite of those is not detectable yet.
    public var unsignedEntries: Int

    /// Whether any checkpoint is stored: without one, a rewrite of the log cannot be detected.
    public var signed: Bool { checkpoints > 0 }
}
