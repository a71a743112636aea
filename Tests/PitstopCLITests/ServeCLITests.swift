// `pitstop serve`'s command line: its defaults, its refusals, and a database it cannot use.
import Foundation
import Testing
@testable import pitstop

@Test func serveDefaultsToLoopbackPort8080WithTheLimitOn() throws {
    let serve = try #require(try Pitstop.parseAsRoot(["serve"]) as? ServeCommand)
    #expect(serve.host == "127.0.0.1")
    #expect(serve.port == 8080)
    #expect(!serve.simulate)
    #expect(!serve.noThrottle)
    let options = try #require(try Pitstop.parseAsRoot(["serve", "--host", "0.0.0.0", "--port", "0", "--simulate", "--no-throttle", "--db", "x.sqlite"]) as? ServeCommand)
    #expect(options.simulate && options.noThrottle && options.port == 0 && options.database.db == "x.sqlite")
}

@Test func serveRefusesAPortOutsideTheRange() {
    #expect(throws: (any Error).self) { try Pitstop.parseAsRoot(["serve", "--port", "70000"]) }
}

@Test func serveOnADirectoryAsTheDatabaseExits2WithTheMessage() throws {
    let box = try Sandbox()
    let run = try box.runRaw(["serve", "--db", box.directory.path, "--port", "0"])
    #expect(run.status == 2)
    #expect(run.stderr.contains("is a directory"), "\(run)")
}

@Test func serveOnAnAddressItCannotListenOnExits2() throws {
    let box = try Sandbox()
    try box.ok("region", "add", "eastus")
    // --insecure: a name that is not localhost is not loopback, and plain HTTP there is refused first.
    let run = try box.runRaw(["serve", "--db", box.db, "--host", "no-such-host.invalid", "--port", "0", "--insecure"])
    #expect(run.status == 2, "\(run)")
    #expect(run.stderr.contains("cannot listen on no-such-host.invalid:0"), "\(run)")
}

@Test func serveDefaultsToPlainHTTPOnLoopbackWithA30SecondIdleTimeout() throws {
    let serve = try #require(try Pitstop.parseAsRoot(["serve"]) as? ServeCommand)
    #expect(serve.tlsCert == nil && serve.tlsKey == nil && !serve.insecure && serve.idleTimeout == 30)
    #expect(try serve.tlsFiles() == nil)
    let options = try #require(try Pitstop.parseAsRoot(["serve", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--idle-timeout", "5", "--insecure"]) as? ServeCommand)
    let files = try #require(try options.tlsFiles())
    #expect(files.certificate == "c.pem" && files.privateKey == "k.pem")
    #expect(options.idleTimeout == 5 && options.insecure)
}

@Test func serveRefusesAnIdleTimeoutOutside1To3600Seconds() {
    #expect(throws: (any Error).self) { try Pitstop.parseAsRoot(["serve", "--idle-timeout", "0"]) }
    #expect(throws: (any Error).self) { try Pitstop.parseAsRoot(["serve", "--idle-timeout", "3601"]) }
}
