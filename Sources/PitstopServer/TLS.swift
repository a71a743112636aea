// What `pitstop serve` exposes, and how: HTTPS from a certificate and key in PEM files, read and
// checked before the server listens, and the rule that plain HTTP is served on loopback only,
// unless the operator says `--insecure`, because bearer tokens must not cross a network in clear.
import Foundation
import NIOSSL
import PitstopCore

/// The PEM files `pitstop serve --tls-cert --tls-key` serves HTTPS with.
public struct TLSFiles: Sendable, Hashable {
    /// The server's certificate, then any intermediates (a chain), PEM.
    public var certificate: String
    /// Its private key, PEM, not encrypted.
    public var privateKey: String

    public init(certificate: String, privateKey: String) {
        self.certificate = certificate
        self.privateKey = privateKey
    }
}

/// Whether `host` names this machine only: 127.0.0.0/8, ::1 (or ::ffff:127.x.y.z), `localhost`.
/// Anything else, a name included, may be reached from a network.
public func isLoopback(host: String) -> Bool {
    var name = host.lowercased()
    if name.hasSuffix(".") { name.removeLast() }
    if name == "localhost" || name.hasSuffix(".localhost") { return true }
    if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
    var v4 = in_addr()
    if inet_pton(AF_INET, name, &v4) == 1 {
        return UInt32(bigEndian: v4.s_addr) >> 24 == 127
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, name, &v6) == 1 {
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes == Array(repeating: 0, count: 15) + [1] { return true }
        // An IPv4-mapped address is the IPv4 one.
        return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
    }
    return false
}

/// Refuses plain HTTP on an address that is not loopback unless `insecure` accepts the risk.
func checkExposure(host: String, tls: Bool, insecure: Bool) throws {
    guard !tls, !insecure, !isLoopback(host: host) else { return }
    throw PitstopError(.invalid, """
        refusing to serve plain HTTP on \(host), which is not a loopback address: bearer tokens and VM documents \
        would cross the network in clear. Give --tls-cert FILE and --tls-key FILE to serve HTTPS, or --insecure to \
        accept the risk (as a metadata-only server on a link-local address such as 169.254.169.254 must, because \
        in-VM clients speak plain HTTP to it)
        """)
}

/// The server's TLS configuration from `files`, checked as far as can be before listening: each
/// file is read, holds PEM of the right kind, and the key goes with the certificate.
///
/// - Throws: ``PitstopError`` `.invalid` naming the file and what is wrong with it.
func serverTLSConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
    let certificateText = try readPEM(files.certificate, option: "--tls-cert")
    let keyText = try readPEM(files.privateKey, option: "--tls-key")

    guard certificateText.contains("-----BEGIN CERTIFICATE-----") else {
        let hint = certificateText.contains("PRIVATE KEY-----") ? " (it holds a private key: are --tls-cert and --tls-key swapped?)" : ""
        throw PitstopError(.invalid, "--tls-cert \(files.certificate): no PEM certificate (-----BEGIN CERTIFICATE-----) in the file\(hint)")
    }
    let chain: [NIOSSLCertificate]
    do {
        chain = try NIOSSLCertificate.fromPEMBytes(Array(certificateText.utf8))
    } catch {
        throw PitstopError(.invalid, "--tls-cert \(files.certificate): the certificate cannot be read: it is not valid PEM-encoded X.509")
    }
    guard !chain.isEmpty else {
        throw PitstopError(.invalid, "--tls-cert \(files.certificate): no certificate in the file")
    }
    let now = time(nil)
    if chain[0].notValidAfter < now {
        throw PitstopError(.invalid, "--tls-cert \(files.certificate): the certificate expired at \(Date(timeIntervalSince1970: TimeInterval(chain[0].notValidAfter))); give a current one")
    }

    if keyText.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || keyText.contains("Proc-Type: 4,ENCRYPTED") {
        throw PitstopError(.invalid, "--tls-key \(files.privateKey): the private key is encrypted; give it unencrypted (e.g. openssl pkey -in KEY -out PLAIN), readable by the server's user only")
    }
    guard keyText.range(of: #"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"#, options: .regularExpression) != nil else {
        let hint = keyText.contains("-----BEGIN CERTIFICATE-----") ? " (it holds a certificate: are --tls-cert and --tls-key swapped?)" : ""
        throw PitstopError(.invalid, "--tls-key \(files.privateKey): no PEM private key (-----BEGIN PRIVATE KEY-----) in the file\(hint)")
    }
    let key: NIOSSLPrivateKey
    do {
        key = try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
    } catch {
        throw PitstopError(.invalid, "--tls-key \(files.privateKey): the private key cannot be read: it is not a valid PEM-encoded RSA or EC key")
    }

    var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    // TLS 1.0 and 1.1 are deprecated (RFC 8996); every client that matters speaks 1.2 or 1.3.
    configuration.minimumTLSVersion = .tlsv12
    do {
        _ = try NIOSSLContext(configuration: configuration)
    } catch {
        throw PitstopError(.invalid, "--tls-key \(files.privateKey): this private key does not belong to the certificate in \(files.certificate); give the key the certificate was made for")
    }
    return configuration
}

/// The text of a PEM file, or an error naming the option, the file and why it cannot be read.
private func readPEM(_ path: String, option: String) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw PitstopError(.invalid, "\(option) \(path): no such file")
    }
    if isDirectory.boolValue { throw PitstopError(.invalid, "\(option) \(path): is a directory, not a PEM file") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw PitstopError(.invalid, "\(option) \(path): cannot be read (permission denied?); the server's user needs to read it")
    }
    if data.isEmpty { throw PitstopError(.invalid, "\(option) \(path): the file is empty") }
    if data.count > 1 << 20 { throw PitstopError(.invalid, "\(option) \(path): \(data.count) bytes is too large for a PEM certificate or key") }
    guard let text = String(data: data, encoding: .utf8) else {
        throw PitstopError(.invalid, "\(option) \(path): not a PEM file (not text; a DER file converts with openssl x509 -inform der or openssl pkey -inform der)")
    }
    return text
}
