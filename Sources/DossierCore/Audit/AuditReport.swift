import Foundation

/// A self-contained HTML page for auditors: no scripts, no fonts, nothing loaded from the network.
public enum AuditReport {
    /// Renders the report for `snapshot`. `verification` is the result of AuditVerifier.verify
    /// (or the error it threw), shown at the top.
    public static func html(_ snapshot: LogSnapshot, verification: Result<VerificationReport, DossierError>, generatedAt: Date) throws(DossierError) -> String {
        var entries: [AuditEntry] = []
        for bytes in snapshot.entries { entries.append(try AuditEntry.parse(bytes)) }
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <title>Dossier audit report — \(esc(snapshot.organisation))</title>
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:68rem;color:#1b1b1b;padding:0 1rem}
        h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
        table{border-collapse:collapse;width:100%;margin:.5rem 0} th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e4e4e4;vertical-align:top}
        th{background:#f4f4f4} code{font:12px ui-monospace,monospace}
        .ok{background:#e7f6e7;border:1px solid #6ab36a;padding:.6rem 1rem} .bad{background:#fde8e8;border:1px solid #d26a6a;padding:.6rem 1rem}
        .muted{color:#666} svg text{font:11px system-ui,sans-serif}
        </style></head><body>
        <h1>Audit report: \(esc(snapshot.organisation))</h1>
        <p class="muted">Organisation key fingerprint <code>\(esc(snapshot.organisationKey.fingerprint))</code> · generated \(esc(Timestamp.format(generatedAt))) · \(entries.count) log entries</p>

        """
        h += "<h2>Summary</h2>\n"
        switch verification {
        case let .success(r):
            h += "<div class=\"ok\"><strong>Log verified.</strong> All \(r.entries) entries chain and carry valid staff signatures."
            if let c = r.checkpointSize { h += " The organisation's newest checkpoint (\(c) entries) matches." } else { h += " No checkpoint yet." }
            h += " Root <code>\(esc(r.root))</code>.</div>\n"
        case let .failure(e):
            h += "<div class=\"bad\"><strong>Verification FAILED.</strong> \(esc(e.description))</div>\n"
        }
        var counts: [String: Int] = [:]
        for e in entries { counts[e.action, default: 0] += 1 }
        h += "<table><tr><th>Action</th><th>Entries</th></tr>"
        for (a, n) in counts.sorted(by: { $0.key < $1.key }) { h += "<tr><td>\(esc(a))</td><td>\(n)</td></tr>" }
        h += "</table>\n"

        h += "<h2>Actions per day</h2>\n" + chart(entries)

        // Access per counsel and per document, from grants and packages.
        var fingerprintOf: [String: String] = [:]
        for e in entries where e.kind == .counselAdd {
            for c in e.subjects(ofType: "counsel") { fingerprintOf[c] = e.detail("fingerprint") }
        }
        struct Access {
            var grants = Set<String>(); var packages = Set<String>(); var documents = Set<String>(); var counsel = Set<String>()
            var retrievals = 0; var last = ""
            /// Openings through the key-release service, and the first and last of them.
            var openings = 0; var firstOpened = ""; var lastOpened = ""
            mutating func opened(at time: String) {
                openings += 1
                if firstOpened.isEmpty { firstOpened = time }
                lastOpened = time
                last = time
            }
            var openingsText: String { openings == 0 ? "0" : "\(openings)<br><span class=\"muted\">first \(AuditReport.esc(firstOpened))<br>last \(AuditReport.esc(lastOpened))</span>" }
        }
        var perCounsel: [String: Access] = [:]
        var perDocument: [String: Access] = [:]
        for e in entries {
            let docs = e.subjects(ofType: "doc"), counsel = e.subjects(ofType: "counsel")
            switch e.kind {
            case .grant?, .package?:
                for c in counsel {
                    var a = perCounsel[c, default: Access()]
                    a.documents.formUnion(docs)
                    if e.kind == .grant { a.grants.formUnion(e.subjects(ofType: "grant")) } else { a.packages.formUnion(e.subjects(ofType: "package")) }
                    a.last = e.time
                    perCounsel[c] = a
                }
                for d in docs {
                    var a = perDocument[d, default: Access()]
                    a.counsel.formUnion(counsel)
                    if e.kind == .grant { a.grants.formUnion(e.subjects(ofType: "grant")) } else { a.packages.formUnion(e.subjects(ofType: "package")) }
                    a.last = e.time
                    perDocument[d] = a
                }
            case .retrieve?:
                for d in docs { perDocument[d, default: Access()].retrievals += 1; perDocument[d]!.last = e.time }
            case .open?:
                for c in counsel { perCounsel[c, default: Access()].opened(at: e.time) }
                for d in docs { perDocument[d, default: Access()].opened(at: e.time) }
            default: break
            }
        }
        h += "<h2>Access per counsel</h2>\n<table><tr><th>Counsel</th><th>Key fingerprint</th><th>Documents</th><th>Grants</th><th>Packages</th><th>Openings (online)</th><th>Last</th></tr>"
        for (c, a) in perCounsel.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td><code>\(esc(c))</code></td><td><code>\(esc(fingerprintOf[c] ?? "?"))</code></td><td>\(a.documents.sorted().map { "<code>\(esc($0))</code>" }.joined(separator: "<br>"))</td><td>\(a.grants.count)</td><td>\(a.packages.count)</td><td>\(a.openingsText)</td><td>\(esc(a.last))</td></tr>"
        }
        if perCounsel.isEmpty { h += "<tr><td colspan=\"7\" class=\"muted\">No document was granted to counsel.</td></tr>" }
        h += "</table>\n"
        h += "<h2>Access per document</h2>\n<table><tr><th>Document</th><th>Counsel</th><th>Grants</th><th>Packages</th><th>Openings (online)</th><th>Staff retrievals</th><th>Last</th></tr>"
        for (d, a) in perDocument.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td><code>\(esc(d))</code></td><td>\(a.counsel.sorted().map { "<code>\(esc($0))</code>" }.joined(separator: "<br>"))</td><td>\(a.grants.count)</td><td>\(a.packages.count)</td><td>\(a.openingsText)</td><td>\(a.retrievals)</td><td>\(esc(a.last))</td></tr>"
        }
        if perDocument.isEmpty { h += "<tr><td colspan=\"7\" class=\"muted\">No document was shared or retrieved.</td></tr>" }
        h += "</table>\n"

        h += requestsSection(RequestFigures(entries))

        h += "<h2>Denials</h2>\n<table><tr><th>#</th><th>Time</th><th>Signed by</th><th>Rule</th><th>Request</th><th>Subjects</th></tr>"
        let denials = entries.filter { $0.kind == .deny }
        for e in denials {
            h += "<tr><td>\(e.seq)</td><td>\(esc(e.time))</td><td><code>\(esc(e.actor))</code></td><td>\(esc(e.detail("rule") ?? ""))</td><td>\(esc(e.detail("request") ?? ""))</td><td>\(e.subjects.map { "<code>\(esc($0))</code>" }.joined(separator: " "))</td></tr>"
        }
        if denials.isEmpty { h += "<tr><td colspan=\"6\" class=\"muted\">No denials.</td></tr>" }
        h += "</table>\n<p class=\"muted\">Ids and fingerprints only: titles and names are never in the log. Staff resolve them with <code>dossier audit log --resolve</code>.</p>\n</body></html>\n"
        return h
    }

    /// The "Requests" section: counts, the median time to answer, and the counts per
    /// language and per kind, all from the signed entries (no sealed value is read).
    static func requestsSection(_ f: RequestFigures) -> String {
        var h = "<h2>Requests</h2>\n"
        guard f.received > 0 else { return h + "<p class=\"muted\">No request from counsel was received.</p>\n" }
        h += "<table><tr><th>Received</th><th>Answered</th><th>Declined</th><th>Open</th><th>Median time to answer</th></tr>"
        h += "<tr><td>\(f.received)</td><td>\(f.answered)</td><td>\(f.declined)</td><td>\(f.open)</td><td>\(f.medianSecondsToAnswer.map(duration) ?? "—")</td></tr></table>\n"
        func table(_ title: String, _ rows: [String: RequestFigures.Count]) -> String {
            var t = "<table><tr><th>\(title)</th><th>Received</th><th>Answered</th></tr>"
            for (k, c) in rows.sorted(by: { $0.key < $1.key }) { t += "<tr><td><code>\(esc(k))</code></td><td>\(c.received)</td><td>\(c.answered)</td></tr>" }
            return t + "</table>\n"
        }
        h += table("Language", f.perLanguage) + table("Kind", f.perKind)
        h += "<p class=\"muted\">A request names one or more languages: it counts once under each. <code>not recorded</code>: received before the log recorded kind and languages.</p>\n"
        return h
    }

    /// "3 d 4 h", "2 h 5 min", "40 s": the largest two units.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 86400 { return "\(s / 86400) d \(s % 86400 / 3600) h" }
        if s >= 3600 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        if s >= 60 { return "\(s / 60) min \(s % 60) s" }
        return "\(s) s"
    }

    /// Bars of entries per day, as inline SVG.
    static func chart(_ entries: [AuditEntry]) -> String {
        var perDay: [String: Int] = [:]
        for e in entries { perDay[String(e.time.prefix(10)), default: 0] += 1 }
        let days = perDay.keys.sorted()
        guard !days.isEmpty else { return "<p class=\"muted\">No entries.</p>\n" }
        let maxCount = perDay.values.max() ?? 1
        let barWidth = 36, gap = 12, height = 160, top = 20, bottom = 40
        let width = max(300, days.count * (barWidth + gap) + gap)
        var s = "<svg role=\"img\" aria-label=\"Log entries per day\" width=\"\(width)\" height=\"\(height + top + bottom)\">"
        s += "<line x1=\"0\" y1=\"\(top + height)\" x2=\"\(width)\" y2=\"\(top + height)\" stroke=\"#999\"/>"
        for (i, day) in days.enumerated() {
            let n = perDay[day]!
            let barHeight = max(1, n * height / maxCount)
            let x = gap + i * (barWidth + gap)
            s += "<rect x=\"\(x)\" y=\"\(top + height - barHeight)\" width=\"\(barWidth)\" height=\"\(barHeight)\" fill=\"#3b6ea8\"><title>\(day): \(n)</title></rect>"
            s += "<text x=\"\(x + barWidth / 2)\" y=\"\(top + height - barHeight - 4)\" text-anchor=\"middle\">\(n)</text>"
            s += "<text x=\"\(x + barWidth / 2)\" y=\"\(top + height + 14)\" text-anchor=\"middle\">\(day.suffix(5))</text>"
        }
        return s + "</svg>\n"
    }

    static func esc(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The request figures of the audit report, from the log alone: `request-receive` entries
/// (kind in `need`, one `language` detail per language), and the entries that close a request.
/// A request counts as answered or declined from the first entry that closes it while open,
/// as the signed facts do (vault.md section 6.6).
public struct RequestFigures: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var received = 0
        public var answered = 0
    }
    public private(set) var received = 0
    public private(set) var answered = 0
    public private(set) var declined = 0
    public var open: Int { received - answered - declined }
    /// The median of the times from `request-receive` to `request-answer`, in seconds; nil when none is answered.
    public private(set) var medianSecondsToAnswer: Double?
    public private(set) var perLanguage: [String: Count] = [:]
    public private(set) var perKind: [String: Count] = [:]

    static let notRecorded = "not recorded"

    public init(_ entries: [AuditEntry]) {
        struct Open { let time: Date; let languages: [String]; let kind: String }
        var open: [String: Open] = [:]
        var seen = Set<String>()
        var waits: [Double] = []
        for e in entries {
            guard let id = e.subjects(ofType: "request").first else { continue }
            switch e.kind {
            case .requestReceive?:
                guard !seen.contains(id), let time = Timestamp.parse(e.time) else { continue }
                seen.insert(id)
                let languages = e.details(named: "language")
                let r = Open(time: time, languages: languages.isEmpty ? [Self.notRecorded] : languages, kind: e.detail("need") ?? Self.notRecorded)
                open[id] = r
                received += 1
                for l in r.languages { perLanguage[l, default: Count()].received += 1 }
                perKind[r.kind, default: Count()].received += 1
            case .requestAnswer?:
                guard let r = open.removeValue(forKey: id) else { continue }
                answered += 1
                if let t = Timestamp.parse(e.time) { waits.append(t.timeIntervalSince(r.time)) }
                for l in r.languages { perLanguage[l, default: Count()].answered += 1 }
                perKind[r.kind, default: Count()].answered += 1
            case .requestDecline?:
                if open.removeValue(forKey: id) != nil { declined += 1 }
            default: continue
            }
        }
        waits.sort()
        if !waits.isEmpty {
            let m = waits.count / 2
            medianSecondsToAnswer = waits.count % 2 == 1 ? waits[m] : (waits[m - 1] + waits[m]) / 2
        }
    }
}
