import Foundation

// The staff inbox (migration `v7-requests`, as the requests part of SQLiteTransaction.swift).

extension PostgresTransaction {
    private static let requestColumns = """
        id, received_at, received_by, sha256, size, sender, state, assigned_to, grant_id, summary_sealed, reason_sealed, closed_at
        """

    private static func request(_ r: PostgresRows, _ i: Int) -> RequestRecord {
        RequestRecord(id: r.text(i, 0) ?? "", receivedAt: r.text(i, 1) ?? "", receivedBy: r.text(i, 2) ?? "", sha256: r.text(i, 3) ?? "",
                      size: UInt64(clamping: r.int(i, 4) ?? 0), sender: r.text(i, 5) ?? "", state: r.text(i, 6) ?? "",
                      assignedTo: r.text(i, 7), grantID: r.text(i, 8), summarySealed: r.data(i, 9) ?? Data(),
                      reasonSealed: r.data(i, 10), closedAt: r.text(i, 11))
    }

    func insertRequest(_ q: RequestRecord) throws {
        try run("INSERT INTO requests(\(Self.requestColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                [.text(q.id), .text(q.receivedAt), .text(q.receivedBy), .text(q.sha256), .int(Int64(clamping: q.size)), .text(q.sender),
                 .text(q.state), .text(q.assignedTo), .text(q.grantID), .bytes(q.summarySealed), .bytes(q.reasonSealed), .text(q.closedAt)])
    }

    func request(_ id: String) throws -> RequestRecord? {
        let r = try rows("SELECT \(Self.requestColumns) FROM requests WHERE id = $1", [.text(id)])
        return r.count == 1 ? Self.request(r, 0) : nil
    }

    func allRequests() throws -> [RequestRecord] {
        let r = try rows("SELECT \(Self.requestColumns) FROM requests ORDER BY received_at COLLATE \"C\", id COLLATE \"C\"")
        return (0..<r.count).map { Self.request(r, $0) }
    }

    func assignRequest(_ id: String, to staff: String) throws {
        try run("UPDATE requests SET state = 'assigned', assigned_to = $1 WHERE id = $2", [.text(staff), .text(id)])
    }

    func closeRequest(_ id: String, state: String, grant: String?, reasonSealed: Data?, at time: String) throws {
        try run("UPDATE requests SET state = $1, grant_id = $2, reason_sealed = $3, closed_at = $4 WHERE id = $5",
                [.text(state), .text(grant), .bytes(reasonSealed), .text(time), .text(id)])
    }

    func allRequestSeals() throws -> [(id: String, summarySealed: Data, reasonSealed: Data?)] {
        let r = try rows("SELECT id, summary_sealed, reason_sealed FROM requests")
        return (0..<r.count).map { (r.text($0, 0) ?? "", r.data($0, 1) ?? Data(), r.data($0, 2)) }
    }

    func requestIntake(since: String, receivedBy: [String], sender: String?) throws -> (count: Int, bytes: UInt64) {
        guard !receivedBy.isEmpty else { return (0, 0) }
        // Timestamps are fixed-width UTC text: compared byte by byte ("C"), they sort as times.
        let r = try rows("""
            SELECT count(*), coalesce(sum(size), 0)::bigint FROM requests
            WHERE received_at COLLATE "C" >= $1 AND received_by = ANY(string_to_array($2, ',')) AND ($3::text IS NULL OR sender = $3)
            """, [.text(since), .text(receivedBy.joined(separator: ",")), .text(sender)])
        return (Int(r.int(0, 0) ?? 0), UInt64(max(0, r.int(0, 1) ?? 0)))
    }

    func resealRequest(id: String, summarySealed: Data, reasonSealed: Data?) throws {
        try run("UPDATE requests SET summary_sealed = $1, reason_sealed = $2 WHERE id = $3", [.bytes(summarySealed), .bytes(reasonSealed), .text(id)])
    }
}
