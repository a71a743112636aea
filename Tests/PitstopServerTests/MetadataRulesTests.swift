// The `Metadata: true` header as clients in the wild write it.
import Testing
@testable import PitstopServer

@Suite struct MetadataRulesTests {
    @Test(arguments: ["true", "True", "TRUE", "tRuE", " true", "true ", "\ttrue\t", "  True  "])
    func anyCaseWithBlanksAroundIsTrue(value: String) {
        #expect(MetadataHeaders.isTrue(value))
    }

    @Test(arguments: ["", "  ", "false", "yes", "1", "tru", "truee", "t rue", "true;", "\"true\"", "TRUE\n", "trüe", "true\u{0}"])
    func anythingElseIsNot(value: String) {
        #expect(!MetadataHeaders.isTrue(value))
    }
}
