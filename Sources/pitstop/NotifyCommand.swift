// `pitstop notify` sends the maintenance notices that are due; `pitstop notices` lists them.
import ArgumentParser
import Foundation
import PitstopCore
import PitstopService

struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Send the maintenance notices that are due, by SMTP to a relay or as .eml files.",
        discussion: """
            A reboot notice is due as soon as its campaign is planned (7 days or more ahead). Each \
            notice is marked sent the moment the relay accepts it, so a run that is killed, or a \
            relay that refuses one, never makes a notice go twice (at most the one in flight at a \
            kill, with the same Message-ID). A refused notice stays queued with its error and is \
            retried by the next run. --smtp talks plain SMTP (no TLS, no AUTH) to a local relay.
            Exit status: 0 every due notice sent, 1 some failed and stay queued, 2 bad usage or error.
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: ArgumentHelp("Send through this SMTP relay.", valueName: "host:port")) var smtp: String?
    @Option(help: ArgumentHelp("The sender address (From and MAIL FROM).", valueName: "address")) var from: String = "pitstop@localhost"
    @Option(help: ArgumentHelp("Write each notice as an .eml file into this directory instead.", valueName: "dir")) var outbox: String?
    @Option(help: "How long to wait for the relay at each step, like 30s.") var timeout: String = "60s"
    @OptionGroup var format: FormatOption<TableOrJSON>

    func run() async throws {
        try await guarded {
            guard Mailbox.isUsable(from) else { throw Failure("--from: '\(from.truncatedForMessage)' is not a usable e-mail address (like pitstop@example.com)") }
            let transport: any NoticeTransport
            switch (smtp, outbox) {
            case (nil, nil), (.some, .some):
                throw Failure("give exactly one of --smtp HOST:PORT or --outbox DIR")
            case (let relay?, nil):
                let (host, port) = try parseRelay(relay)
                let seconds = try parseDuration(timeout, option: "--timeout")
                guard seconds > 0 else { throw Failure("--timeout: must be at least 1s") }
                guard seconds <= InputLimits.maximumRelayTimeoutSeconds else {
                    throw Failure("--timeout: \(DurationText.short(seconds)) is longer than the maximum of \(DurationText.short(InputLimits.maximumRelayTimeoutSeconds))")
                }
                transport = SMTPRelay(host: host, port: port, timeout: Double(seconds))
            case (nil, let directory?):
                transport = try OutboxDirectory(directory: URL(fileURLWithPath: directory))
            }

            let now = try Invocation.now()
            let services = try database.open()
            let notifier = services.notifier
            let lock = try await NoticeSenderLock(on: services)
            let deliveries = try await notifier.sendDue(now: now, from: from, via: transport, actor: Invocation.actor(),
                                                        clock: { (try? Invocation.now()) ?? now }, holding: lock)
            lock.release()
            let failed = deliveries.filter { !$0.succeeded }.count
            switch format.value {
            case .json:
                print(Responses.deliveries(deliveries, transport: transport.name))
            case .table:
                if deliveries.isEmpty {
                    print("no notices due")
                } else {
                    var table = Table("notice", "subscription", "recipients", "result", numeric: [0], elastic: [2, 3])
                    for d in deliveries {
                        let result = switch d.outcome {
                        case .sent: "sent"
                        case .failed(let error): "failed (attempt \(d.notice.attempts)): \(error)"
                        }
                        table.add("\(d.notice.id)", d.notice.subscription, d.notice.recipients.joined(separator: ", "), result)
                    }
                    print(table.text, terminator: "")
                    print("\(deliveries.count - failed) sent, \(failed) failed via \(transport.name)" + (failed > 0 ? "; the failed ones stay queued for the next run" : ""))
                }
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }

    /// `host:port`, `[v6addr]:port`.
    func parseRelay(_ text: String) throws -> (String, UInt16) {
        let host: Substring, port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") {
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        } else {
            throw Failure("--smtp: '\(text.truncatedForMessage)' is not HOST:PORT (like 127.0.0.1:25 or [::1]:2525)")
        }
        guard !host.isEmpty, let number = UInt16(port), number > 0 else {
            throw Failure("--smtp: '\(text.truncatedForMessage)' is not HOST:PORT with a port in 1..65535")
        }
        return (String(host), number)
    }
}

struct NoticesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notices", abstract: "List maintenance notices: queued, sent or withdrawn, with attempts and errors.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only this campaign's notices.") var campaign: String?
    @OptionGroup var format: FormatOption<TableOrJSON>

    func run() async throws {
        try await guarded {
            let notices = try await database.open().notifier.notices(campaign: campaign, now: try Invocation.now())
            switch format.value {
            case .json:
                print(Responses.document("notices", notices.map(Responses.notice)))
            case .table:
                if notices.isEmpty {
                    print(campaign == nil ? "no notices" : "no notices for campaign \(campaign!)")
                    return
                }
                var table = Table("notice", "campaign", "subscription", "recipients", "state", "first start (UTC)", "sent (UTC)", "attempts", "last error",
                                  numeric: [0, 7], elastic: [3, 8])
                for s in notices {
                    let n = s.notice
                    table.add("\(n.id)", n.campaign, n.subscription, n.recipients.joined(separator: ", "), s.state.rawValue, n.firstStart.iso8601,
                              n.sentAt?.iso8601 ?? "-", "\(n.attempts)", n.lastError ?? "-")
                }
                print(table.text, terminator: "")
                var counts: [NoticeStatus.State: Int] = [:]
                for s in notices { counts[s.state, default: 0] += 1 }
                print([NoticeStatus.State.queued, .sent, .waiting, .withdrawn].compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }.joined(separator: ", "))
            }
        }
    }
}
