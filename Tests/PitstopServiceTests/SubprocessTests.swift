// The tests' own child processes (PitstopTestSupport's `Subprocess`): what every process test
// relies on, checked once here.
import Foundation
import PitstopTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SubprocessTests {
    /// The descriptors a shell started by `Subprocess` has, read from /proc by the shell itself.
    static func descriptorsOfAChild(inheriting: Bool) throws -> [Int] {
        let outcome = try ChildProcess.run("/bin/sh", ["-c", "ls /proc/$$/fd"], inheritingDescriptors: inheriting)
        return outcome.stdout.split(separator: "\n").compactMap { Int($0) }.sorted()
    }

    @Test func aChildGetsOnlyItsStandardStreamsUnlessAskedOtherwise() throws {
        // A descriptor of this process that is not close-on-exec, as NIO's sockets are not.
        let open = Glibc.open("/dev/null", O_RDONLY)
        try #require(open >= 3)
        defer { close(open) }
        #expect(try Self.descriptorsOfAChild(inheriting: false) == [0, 1, 2])
        #expect(try Self.descriptorsOfAChild(inheriting: true).contains(Int(open)))
    }

    @Test func anExitStatusAndAKillingSignalAreToldApart() throws {
        let exits = Subprocess()
        exits.executableURL = URL(fileURLWithPath: "/bin/sh")
        exits.arguments = ["-c", "exit 3"]
        try exits.run()
        exits.waitUntilExit()
        #expect(exits.terminationReason == .exit && exits.terminationStatus == 3)
        #expect(!exits.isRunning)

        let sleeper = Subprocess()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["300"]
        try sleeper.run()
        #expect(sleeper.isRunning)
        sleeper.signal(SIGKILL)
        sleeper.waitUntilExit()
        #expect(sleeper.terminationReason == .uncaughtSignal && sleeper.terminationStatus == SIGKILL)
        #expect(try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$"]).status == 128 + SIGTERM)
    }

    /// A reaped child's pid is the kernel's to give to a new process or thread, of this process
    /// too: a signal sent by that number then reaches whoever has it. So `signal` sends only
    /// while the child is unreaped, and reaping takes the same lock.
    @Test func aSignalReachesOnlyAChildNotYetReaped() async throws {
        let sleeper = Subprocess()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["300"]
        try sleeper.run()
        #expect(sleeper.signal(0))
        // Another thread waits for it meanwhile: the wait must not reap behind signal's back.
        let waiting = Task.detached { sleeper.waitUntilExit() }
        #expect(sleeper.signal(SIGKILL))
        await waiting.value
        #expect(sleeper.terminationReason == .uncaughtSignal && sleeper.terminationStatus == SIGKILL)
        #expect(!sleeper.signal(SIGTERM))
        #expect(!sleeper.signal(0))
        #expect(!sleeper.isRunning)
    }

    @Test func aPipeReachesEndOfFileWhenTheChildExitsAndTheDirectoryAndEnvironmentAreItsOwn() throws {
        let child = Subprocess()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "read line; echo \"$line $PWD $ONLY\"; echo oops >&2"]
        child.environment = ["ONLY": "this"]
        child.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        let input = Pipe(), output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()
        input.fileHandleForWriting.write(Data("hello\n".utf8))
        try input.fileHandleForWriting.close()
        // Read to the end: this returns only if no copy of the pipe's write end is left open.
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        #expect(text == "hello /tmp this\n")
        #expect(child.terminationStatus == 0)
    }

    @Test func aSignalSentToARunningChildIsNotBlockedByThisProcesssMask() throws {
        // A test thread may block signals; the child must still get its SIGTERM.
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let sleeper = Subprocess()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        sleeper.terminate()
        sleeper.waitUntilExit()
        #expect(sleeper.terminationReason == .uncaughtSignal && sleeper.terminationStatus == SIGTERM)
    }
}
