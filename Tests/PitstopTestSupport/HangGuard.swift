// The two limits the tests use: bounds against a hang, never a speed target (those are
// benchmarks). Swift Testing starts every test of a run at once and counts a test's limit from
// then, so on CI's two cores a test that takes five seconds alone can wait minutes for a thread:
// limits of one and two minutes have failed CI runs for no fault of the code (a 100 MB parse
// that takes five seconds alone "exceeded 60 seconds" 224 s into a 480 s run). A limit that
// holds must outlast the whole run on a loaded machine; a test still going after it is stuck.
import Testing

extension Trait where Self == TimeLimitTrait {
    /// Twenty minutes: more than twice the whole suite on a loaded two-core machine (eight).
    public static var hangGuard: Self { .timeLimit(.minutes(20)) }
}

/// How long a test's client waits for one answer (a socket's receive, a Python client's
/// request) before it fails: a minute, though an answer takes milliseconds alone; a full suite
/// on a slow day starved answers past ten seconds.
public let answerGuardSeconds = 60
