import DossierCore
import DossierCrypto
import DossierServer
import Foundation
import GRDB
import XCTest

/// The key-release service, run for real on a loopback port, driven by the real client.
final class KeyReleaseServerTests: XCTestCase {
    func testNormalOpenWritesTheDocumentsAndLogsTheOpeningWithAReceipt() throws {
        let w = try OnlineWorld("normal")
        let content = Data("testimony of witness 7\n".utf8)
        let doc = try w.document(.expertReport, name: "statement.txt", content: content)
        let (counselID, counsel) = try w.counsel("ana")
        let (grant, path) = try w.onlinePackage([doc], to: [counsel])
        XCTAssertEqual(try w.manifest(path).online, w.url)

        let out = try w.folder()
        let opened = try w.open(path, as: counselID, into: out)
        XCTAssertEqual(opened.map(\.path), [out + "/statement.txt"])
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/statement.txt"), content)

        let opens = try w.entries("open")
        XCTAssertEqual(opens.count, 1)
        let entry = try XCTUnwrap(opens.first)
        XCTAssertEqual(entry.actor, w.staff.publicIdentity.fingerprint)
        XCTAssertTrue(entry.subjects.contains("grant:" + grant.id))
        XCTAssertTrue(entry.subjects.contains("counsel:" + counsel.id))
        XCTAssertTrue(entry.subjects.contains("doc:" + doc.id))
        XCTAssertEqual(entry.detail("opening"), "1")
        // The receipt is the counsel's own signed request: it verifies with their key, and not
        // with anyone else's.
        let receipt = try XCTUnwrap(entry.detail("receipt").flatMap(SignedReleaseRequest.parse(receipt:)))
        XCTAssertTrue(receipt.verifies(with: counselID.publicIdentity.signingKey))
        XCTAssertFalse(receipt.verifies(with: w.staff.publicIdentity.signingKey))
        XCTAssertEqual(receipt.request.grantID, grant.id)
        XCTAssertEqual(receipt.request.recipient, counsel.fingerprint)

        // The log, openings included, verifies as an auditor would check it.
        let report = try AuditVerifier.verify(try w.vault.logSnapshot())
        XCTAssertEqual(report.entries, try w.vault.auditEntries().count)
    }

    func testWithoutTheServiceThePackageRevealsNothing() throws {
        let w = try OnlineWorld("offline")
        let secret = Data("the name of the witness is in here\n".utf8)
        let doc = try w.document(content: secret)
        let (counselID, counsel) = try w.counsel("ben")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])

        // No client: refused before anything is written.
        let out = try w.folder()
        let error = caught { _ = try PackageReader(path: path, clock: w.clock).open(identity: counselID, trust: w.trust, into: out) }
        guard case .onlinePackage(let url)? = error else { return XCTFail("expected .onlinePackage, got \(String(describing: error))") }
        XCTAssertEqual(url, w.url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])

        // A service that answers with anything but the vault's share: the list does not open.
        struct Impostor: KeyReleaseTransport {
            let counsel: PublicIdentity
            func post(_ url: String, body: Data, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data) {
                let sealed = (try? SealedBox.seal(SecureBytes(randomCount: 32), to: counsel.encryptionKey)) ?? Data()
                let request = SignedReleaseRequest.parse(body: body)!.request
                let object: [String: Any] = ["status": "released", "package": request.packageID, "share": sealed.base64EncodedString(), "opening": 1]
                return (200, try! JSONSerialization.data(withJSONObject: object))
            }
        }
        let fake = KeyReleaseClient(transport: Impostor(counsel: counselID.publicIdentity), clock: w.clock)
        let tampered = caught { _ = try PackageReader(path: path, clock: w.clock).open(identity: counselID, trust: w.trust, into: out, keyRelease: fake) }
        guard case .packageTampered? = tampered else { return XCTFail("expected .packageTampered, got \(String(describing: tampered))") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])

        // The package file itself holds neither the plaintext nor the package key: decrypting the
        // stanza gives only counsel's share, which is not the key (the service never answered).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertNil(bytes.range(of: secret))
        XCTAssertEqual(try w.entries("open").count, 0)
    }

    /// The split of package.md section 8, checked on a real online package from outside the
    /// reader: each counsel's stanza, opened with their key, holds a share s_j that does not open
    /// the sealed list; the service's share v_j, XORed in by hand, gives the one key K that does
    /// (list key = crypto_kdf(K, 0, "DOSSPKG1"), associated data of section 5), and the list then
    /// names the document's BLAKE2b-256. Two counsel hold different shares of the same K.
    func testEachStanzaHoldsOnlyAShareAndTheServicesShareCompletesTheKey() throws {
        let w = try OnlineWorld("shares")
        let content = Data("the witness lives at the third address\n".utf8)
        let doc = try w.document(content: content)
        let ben = try w.counsel("ben"), carla = try w.counsel("carla")
        let (_, path) = try w.onlinePackage([doc], to: [ben.counsel, carla.counsel])
        let manifest = try w.manifest(path)

        // The layout of package.md section 1, read by hand.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        func u32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        let m = u32(4)
        let manifestBytes = bytes.subdata(in: 8..<8 + m)
        XCTAssertEqual(manifestBytes, manifest.bytes)
        let stanzasStart = 8 + m
        let contentLength = manifest.contentSizes.reduce(0) { $0 + Int($1) + 16 * max(1, (Int($1) + 65535) / 65536) }
        let listAt = stanzasStart + 80 * manifest.recipients.count + contentLength
        let sealedList = bytes.subdata(in: listAt + 4..<listAt + 4 + u32(listAt))
        XCTAssertEqual(listAt + 4 + sealedList.count + 64, bytes.count, "the layout does not add up")
        let ad = Data("dossier-package-documents/1\n".utf8) + Hash.sha256(manifestBytes)
        func openList(_ key: Data) -> Data? {
            guard let listKey = try? KeyDerivation.subkey(from: SecureBytes(copying: key), id: 0, context: "DOSSPKG1") else { return nil }
            return (try? AEAD.open(sealedList, key: listKey, additionalData: ad))?.unsafeCopyToData()
        }

        var keys: [Data] = [], stanzaSecrets: [Data] = []
        for (identity, counsel) in [ben, carla] {
            let j = try XCTUnwrap(manifest.recipients.firstIndex(of: counsel.fingerprint))
            let stanza = bytes.subdata(in: stanzasStart + 80 * j..<stanzasStart + 80 * (j + 1))
            let s = try SealedBox.open(stanza, with: identity.encryption).unsafeCopyToData()
            XCTAssertEqual(s.count, 32)
            XCTAssertNil(openList(s), "\(counsel.id): the stanza alone opens the list: it holds K, not a share")
            // The vault's share for this counsel, as the running service releases it.
            let v = try w.client().requestShare(for: manifest, identity: identity).share.unsafeCopyToData()
            XCTAssertEqual(v.count, 32)
            XCTAssertNotEqual(v, s)
            XCTAssertNil(openList(v), "\(counsel.id): the service's share alone opens the list")
            let k = Data(zip(s, v).map { $0 ^ $1 })
            let list = try XCTUnwrap(openList(k), "\(counsel.id): s XOR v does not open the list")
            let text = String(decoding: list, as: UTF8.self)
            XCTAssertTrue(text.hasPrefix("dossier-package-documents/1\ndocument \(doc.id) "), text)
            XCTAssertTrue(text.contains(" \(content.count) \(Hash.blake2b(content).hex) "), text)
            keys.append(k)
            stanzaSecrets.append(s)
        }
        XCTAssertEqual(keys[0], keys[1], "the two counsel's shares combine to different keys")
        XCTAssertNotEqual(stanzaSecrets[0], stanzaSecrets[1], "the two counsel hold the same share")
    }

    func testRevocationAfterThePackageWasSentStopsTheOpening() throws {
        let w = try OnlineWorld("revoked")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("carla")
        let (grant, path) = try w.onlinePackage([doc], to: [counsel])
        _ = try w.session.sharing.revoke(grant.id, reason: "assurances withdrawn")

        let out = try w.folder()
        let error = caught { _ = try w.open(path, as: counselID, into: out) }
        XCTAssertEqual(refusal(error), "revoked")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
        let denials = try w.entries("deny")
        XCTAssertEqual(denials.last?.detail("rule"), "grant.revoked")
        XCTAssertTrue(denials.last?.subjects.contains("grant:" + grant.id) ?? false)
        // The refused request is kept as evidence too.
        XCTAssertNotNil(denials.last?.detail("receipt").flatMap(SignedReleaseRequest.parse(receipt:)))
        XCTAssertEqual(try w.entries("open").count, 0)
    }

    func testAnExpiredGrantIsRefusedEvenToAClientThatSkipsTheWindowCheck() throws {
        let w = try OnlineWorld("expired")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("dan")
        let (_, path) = try w.onlinePackage([doc], to: [counsel], days: 1)
        let manifest = try w.manifest(path)
        w.clock.advance(86400 + 60)
        // A modified reader would skip the window check; the service does not.
        let error = caught { _ = try w.client().requestShare(for: manifest, identity: counselID) }
        XCTAssertEqual(refusal(error), "expired")
        XCTAssertEqual(try w.entries("deny").last?.detail("rule"), "grant.expired")
    }

    func testAReplayedRequestIsRefused() throws {
        let w = try OnlineWorld("replay")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("eve")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        let body = SignedReleaseRequest.make(for: try w.manifest(path), identity: counselID, at: w.clock.now()).body
        let first = try w.post(body: body)
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.json["status"] as? String, "released")
        let second = try w.post(body: body)
        XCTAssertEqual(second.status, 409)
        XCTAssertEqual(second.json["error"] as? String, "replay")
        XCTAssertEqual(try w.entries("open").count, 1)
        XCTAssertEqual(try w.entries("deny").last?.detail("rule"), "online.replay")
    }

    /// Nonces are kept only while a replay could still pass the time check; a replay after
    /// that is refused as stale, never released.
    func testOldNoncesAreForgottenAndTheirRequestsStayRefused() throws {
        let w = try OnlineWorld("nonces")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("ian")
        let (_, path) = try w.onlinePackage([doc], to: [counsel], days: 3)
        let manifest = try w.manifest(path)
        let old = SignedReleaseRequest.make(for: manifest, identity: counselID, at: w.clock.now()).body
        XCTAssertEqual(try w.post(body: old).status, 200)
        XCTAssertEqual(try nonceCount(w), 1)
        w.clock.advance(KeyReleaseService.nonceLifetime + KeyReleaseService.pruneInterval + 1)
        let fresh = SignedReleaseRequest.make(for: manifest, identity: counselID, at: w.clock.now()).body
        XCTAssertEqual(try w.post(body: fresh).status, 200)
        XCTAssertEqual(try nonceCount(w), 1, "the old nonce was not removed")
        let replay = try w.post(body: old)
        XCTAssertEqual(replay.status, 401)
        XCTAssertEqual(replay.json["error"] as? String, "stale-request")
        XCTAssertEqual(try w.entries("open").count, 2)
    }

    private func nonceCount(_ w: OnlineWorld) throws -> Int {
        try DatabaseQueue(path: w.root + "/vault/vault.sqlite").read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM online_nonces") ?? -1 }
    }

    func testTheOpenLimitHoldsAndIsPerCounsel() throws {
        let w = try OnlineWorld("limit")
        let doc = try w.document()
        let (a, ca) = try w.counsel("fay")
        let (b, cb) = try w.counsel("gus")
        let (grant, path) = try w.onlinePackage([doc], to: [ca, cb], maxOpens: 2)
        XCTAssertEqual(grant.maxOpens, 2)
        _ = try w.open(path, as: a)
        _ = try w.open(path, as: a)
        let out = try w.folder()
        let error = caught { _ = try w.open(path, as: a, into: out) }
        XCTAssertEqual(refusal(error), "open-limit-reached")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
        // The other recipient has their own count.
        _ = try w.open(path, as: b)
        let opens = try w.entries("open")
        XCTAssertEqual(opens.compactMap { $0.detail("opening") }, ["1/2", "2/2", "1/2"])
        let deny = try XCTUnwrap(w.entries("deny").last)
        XCTAssertEqual(deny.detail("rule"), "grant.max_opens")
        XCTAssertEqual(deny.detail("opens"), "2/2")
    }

    func testConcurrentRequestsNeverExceedTheLimitAndAreEachLoggedOnce() throws {
        let w = try OnlineWorld("race")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("hal")
        let (_, path) = try w.onlinePackage([doc], to: [counsel], maxOpens: 3)
        let manifest = try w.manifest(path)
        let bodies = (0..<24).map { _ in SignedReleaseRequest.make(for: manifest, identity: counselID, at: w.clock.now()).body }
        let buffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: bodies.count)
        defer { buffer.deallocate() }
        nonisolated(unsafe) let statuses = buffer
        let url = w.url
        DispatchQueue.concurrentPerform(iterations: bodies.count) { i in
            statuses[i] = (try? URLSessionTransport().post(url + "/v1/open", body: bodies[i], timeout: 30).status) ?? -1
        }
        XCTAssertEqual(statuses.filter { $0 == 200 }.count, 3)
        XCTAssertEqual(statuses.filter { $0 == 403 }.count, 21)
        XCTAssertEqual(try w.entries("open").count, 3)
        XCTAssertEqual(try w.entries("deny").filter { $0.detail("rule") == "grant.max_opens" }.count, 21)
        XCTAssertEqual(Set(try w.entries("open").compactMap { $0.detail("opening") }), ["1/3", "2/3", "3/3"])
    }

    func testANonRecipientIsRefusedEvenWithAValidSignature() throws {
        let w = try OnlineWorld("stranger")
        let doc = try w.document()
        let (_, counsel) = try w.counsel("ida")
        let (stranger, _) = try w.counsel("jon")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        let error = caught { _ = try w.client().requestShare(for: try w.manifest(path), identity: stranger) }
        XCTAssertEqual(refusal(error), "not-a-recipient")
        // Through `open`, the reader refuses before contacting the service at all.
        let local = caught { _ = try w.open(path, as: stranger) }
        guard case .notARecipient? = local else { return XCTFail("expected .notARecipient, got \(String(describing: local))") }
        XCTAssertEqual(try w.entries("deny").filter { $0.detail("rule") == "online.not-a-recipient" }.count, 1)
    }

    /// Lapsed vetting is refused under one rule name whether staff grant, staff package, or the
    /// service is asked to release; counsel still receive the protocol's `not-vetted`.
    func testGrantPackageAndReleaseLogLapsedVettingUnderOneRuleName() throws {
        let w = try OnlineWorld("one-rule-name")
        let doc = try w.document(.expertReport)
        let (identity, counsel) = try w.counsel("una")
        let (grant, path) = try w.onlinePackage([doc], to: [counsel], days: 3)
        // Vetting now ends before the grant's window does.
        _ = try w.session.sharing.vetCounsel(counsel.id, until: w.clock.now().addingTimeInterval(86400), note: nil)
        let rule = "kinds.expert-report.require_vetted"

        let granted = caught { _ = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [counsel.id], window: .duration(seconds: 3 * 86400), online: w.url)) }
        guard case .policyDenied(let grantRule, _, _)? = granted else { return XCTFail("got \(String(describing: granted))") }
        let packaged = caught { _ = try w.session.sharing.makePackage(grant: grant.id, to: w.root + "/refused.dpkg") }
        guard case .policyDenied(let packageRule, _, _)? = packaged else { return XCTFail("got \(String(describing: packaged))") }
        w.clock.advance(2 * 86400)
        XCTAssertEqual(refusal(caught { _ = try w.open(path, as: identity) }), "not-vetted")

        XCTAssertEqual([grantRule, packageRule], [rule, rule])
        let denials = try w.entries("deny")
        XCTAssertEqual(denials.map { $0.detail("request") }, ["grant", "package", "open"])
        XCTAssertEqual(denials.map { $0.detail("rule") }, [rule, rule, rule])
        XCTAssertTrue(denials.allSatisfy { $0.subjects.contains("counsel:" + counsel.id) })
        XCTAssertEqual(try w.entries("open").count, 0)
    }

    func testSuspendedOrNoLongerVettedCounselAreRefused() throws {
        let w = try OnlineWorld("standing")
        let doc = try w.document()
        let (a, ca) = try w.counsel("nia")
        let (b, cb) = try w.counsel("oto")
        let (_, path) = try w.onlinePackage([doc], to: [ca, cb])
        _ = try w.session.sharing.suspendCounsel(ca.id, reason: "bar membership lapsed")
        XCTAssertEqual(refusal(caught { _ = try w.open(path, as: a) }), "suspended")
        // Vetting shortened to end in an hour; two hours later the service refuses.
        _ = try w.session.sharing.vetCounsel(cb.id, until: w.clock.now().addingTimeInterval(3600), note: nil)
        w.clock.advance(7200)
        XCTAssertEqual(refusal(caught { _ = try w.open(path, as: b) }), "not-vetted")
        XCTAssertEqual(try w.entries("open").count, 0)
    }

    func testBeforeTheWindowAndForAnUnknownPackageTheServiceRefuses() throws {
        let w = try OnlineWorld("window-start")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("pia")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        let manifest = try w.manifest(path)
        // A client whose clock is a minute behind (within the allowed skew) asks before the grant began.
        let early = KeyReleaseClient(clock: FixedClock(w.clock.now().addingTimeInterval(-60)))
        w.clock.advance(-60)
        XCTAssertEqual(refusal(caught { _ = try early.requestShare(for: manifest, identity: counselID) }), "not-yet-valid")
        w.clock.advance(60)
        // A package id the vault never issued: refused, and logged without subjects (nothing
        // unauthenticated is attached to a package, grant or counsel in the auditors' views).
        var forged = manifest
        forged.packageID = "pkg-aaaaaaaaaaaaa"
        XCTAssertEqual(refusal(caught { _ = try w.client().requestShare(for: forged, identity: counselID) }), "unknown-package")
        let deny = try XCTUnwrap(w.entries("deny").last)
        XCTAssertEqual(deny.detail("rule"), "online.unknown-package")
        XCTAssertEqual(deny.subjects, [])
        XCTAssertEqual(deny.detail("claimed-package"), "pkg-aaaaaaaaaaaaa")
    }

    func testTheOpenLimitComesFromThePolicyAndCanOnlyBeLowered() throws {
        let w = try OnlineWorld("policy-limit")
        let witness = try w.document(.witnessTestimony)
        let (_, c) = try w.counsel("quin")
        // The default policy allows a witness testimony 3 openings per counsel.
        let denied = caught { _ = try w.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [c.id], window: .duration(seconds: 86400),
                                                                    online: w.url, maxOpens: 5)) }
        guard case .policyDenied(let rule, _, _)? = denied else { return XCTFail("expected a policy denial, got \(String(describing: denied))") }
        XCTAssertEqual(rule, "kinds.witness-testimony.max_opens")
        let g = try w.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [c.id], window: .duration(seconds: 86400), online: w.url))
        XCTAssertEqual(g.maxOpens, 3)
        // An expert report granted offline and packaged online gets no limit from the policy (0).
        let report = try w.document(.expertReport)
        let offline = try w.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 86400)))
        XCTAssertNil(offline.onlineURL)
        let summary = try w.session.sharing.makePackage(grant: offline.id, to: w.root + "/late-online.dpkg", online: w.url)
        XCTAssertEqual(summary.online, w.url)
        XCTAssertEqual(try w.manifest(w.root + "/late-online.dpkg").online, w.url)
    }

    func testAuditorsSeeTheFirstAndLastOpeningPerCounselAndDocument() throws {
        let w = try OnlineWorld("audit-views")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("ray")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        _ = try w.open(path, as: counselID)
        let first = Timestamp.format(w.clock.now())
        w.clock.advance(3600)
        _ = try w.open(path, as: counselID)
        let last = Timestamp.format(w.clock.now())
        let snapshot = try w.vault.logSnapshot()

        let exposure = try snapshot.exposure(of: counsel.id)
        XCTAssertEqual(exposure.openings.count, 2)
        let record = try XCTUnwrap(exposure.documents.first { $0.document == doc.id })
        XCTAssertEqual(record.openings, 2)
        XCTAssertEqual(record.firstOpened, first)
        XCTAssertEqual(record.lastOpened, last)
        // By fingerprint too.
        XCTAssertEqual(try snapshot.exposure(of: counsel.fingerprint).openings.count, 2)

        let html = try AuditReport.html(snapshot, verification: .success(try AuditVerifier.verify(snapshot)), generatedAt: w.clock.now())
        XCTAssertTrue(html.contains("Openings (online)"))
        XCTAssertTrue(html.contains("first \(first)<br>last \(last)"), "the report does not show the first and last opening")
    }

    func testTamperedRequestsAreRefused() throws {
        let w = try OnlineWorld("tampered")
        let doc = try w.document()
        let other = try w.document()
        let (counselID, counsel) = try w.counsel("kim")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        let (otherGrant, _) = try w.onlinePackage([other], to: [counsel])
        let manifest = try w.manifest(path)
        let good = SignedReleaseRequest.make(for: manifest, identity: counselID, at: w.clock.now())

        func send(_ request: ReleaseRequest, _ signature: Data) throws -> (Int, String?) {
            let r = try w.post(body: SignedReleaseRequest(request: request, signature: signature).body)
            return (r.status, r.json["error"] as? String)
        }
        // A changed field under the original signature.
        var later = good.request
        later.time = Timestamp.format(w.clock.now().addingTimeInterval(60))
        XCTAssertEqual(try send(later, good.signature).1, "bad-signature")
        var nonce = good.request
        nonce.nonce = String(repeating: "0", count: 32)
        XCTAssertEqual(try send(nonce, good.signature).1, "bad-signature")
        // A flipped signature bit.
        var flipped = good.signature
        flipped[5] ^= 0x01
        XCTAssertEqual(try send(good.request, flipped).1, "bad-signature")
        // Signed by another key (the staff member's) in counsel's name.
        XCTAssertEqual(try send(good.request, w.staff.signing.sign(good.request.bytes)).1, "bad-signature")
        // The grant of another package.
        var moved = good.request
        moved.grantID = otherGrant.id
        XCTAssertEqual(try send(moved, counselID.signing.sign(moved.bytes)).0, 400)
        // A time outside the allowed skew, correctly signed.
        var stale = good.request
        stale.time = Timestamp.format(w.clock.now().addingTimeInterval(-KeyReleaseService.maximumSkew - 5))
        XCTAssertEqual(try send(stale, counselID.signing.sign(stale.bytes)).1, "stale-request")
        // The untouched request still works: nothing above used its nonce.
        XCTAssertEqual(try send(good.request, good.signature).0, 200)
        XCTAssertEqual(try w.entries("open").count, 1)
        let badSignatures = try w.entries("deny").filter { $0.detail("rule") == "online.bad-signature" }
        XCTAssertEqual(badSignatures.count, 4)
        XCTAssertTrue(badSignatures.allSatisfy { $0.subjects.isEmpty && $0.detail("receipt") == nil })
    }

    func testBadInputGetsA4xxJSONErrorAndTheServiceCarriesOn() throws {
        let w = try OnlineWorld("hostile")
        let cases: [(String, Data, Int, String)] = [
            ("not JSON", Data("{\"request\": ".utf8), 400, "malformed"),
            ("JSON array", Data("[1,2,3]".utf8), 400, "malformed"),
            ("extra member", Data(#"{"request":"x","signature":"y","admin":true}"#.utf8), 400, "malformed"),
            ("empty", Data(), 400, "malformed"),
            ("binary", Data((0..<255).map { UInt8($0) }), 400, "malformed"),
            ("huge", Data(repeating: 0x41, count: 200_000), 413, "too-large"),
        ]
        for (label, body, status, error) in cases {
            let r = try w.post(body: body)
            XCTAssertEqual(r.status, status, label)
            XCTAssertEqual(r.json["error"] as? String, error, label)
            XCTAssertNotNil(r.json["message"] as? String, label)
        }
        let unknown = try w.post("/v1/keys", body: Data("{}".utf8))
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.json["error"] as? String, "not-found")
        // Every refusal of a request is logged.
        XCTAssertEqual(try w.entries("deny").filter { $0.detail("request") == "open" }.count, cases.count)

        // A slow client that never finishes its body is cut off; others are still served.
        let slow = try SlowClient(port: w.port)
        try slow.send("POST /v1/open HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"req")
        let answer = slow.readAll(timeout: 30)
        XCTAssertTrue(answer.isEmpty || answer.hasPrefix("HTTP/1.1 408"), "unexpected answer to a slow client: \(answer.prefix(80))")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("lou")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        XCTAssertEqual(try w.open(path, as: counselID).count, 1)
    }

    func testA503BodyNamesNeitherTheVaultNorAnyFingerprintAndTheCauseGoesToTheReport() throws {
        let w = try OnlineWorld("unavailable")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("noa")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        let body = SignedReleaseRequest.make(for: try w.manifest(path), identity: counselID, at: w.clock.now()).body
        // Every fingerprint the service knows of: its own, the counsel's and the new staff member's.
        let other = SecretIdentity.generate(using: DeterministicRandom(seed: "online/unavailable/other"))
        _ = try w.session.staff.add(other.publicIdentity, name: "Other")
        let fingerprints = [w.staff.publicIdentity.fingerprint, counselID.publicIdentity.fingerprint, other.publicIdentity.fingerprint]
        func assertGeneric(_ label: String) throws {
            let (status, data) = try URLSessionTransport().post(w.url + "/v1/open", body: body, timeout: 15)
            XCTAssertEqual(status, 503, label)
            let text = String(decoding: data, as: UTF8.self)
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            XCTAssertEqual(json?["error"] as? String, "unavailable", label)
            XCTAssertFalse(text.contains(w.root), "\(label): the 503 body names the vault: \(text)")
            XCTAssertFalse(text.contains("vault.sqlite"), "\(label): the 503 body names the database: \(text)")
            for fingerprint in fingerprints {
                XCTAssertFalse(text.contains(fingerprint), "\(label): the 503 body carries a fingerprint: \(text)")
            }
        }

        // The log cannot be written: the vault cannot decide.
        try DatabaseQueue(path: w.root + "/vault/vault.sqlite").write { db in
            try db.execute(sql: "CREATE TRIGGER no_log BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'log unavailable'); END")
        }
        try assertGeneric("broken log")
        try DatabaseQueue(path: w.root + "/vault/vault.sqlite").write { db in try db.execute(sql: "DROP TRIGGER no_log") }

        // Another process removes the service's staff identity: it is no longer staff.
        let otherSession = try Vault.open(at: w.root + "/vault", clock: w.clock).unlock(other)
        _ = try otherSession.staff.remove(w.staff.publicIdentity.fingerprint)
        try assertGeneric("no longer staff")

        // The causes went to the service's own report.
        let errors = w.reports.all.filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errors.count, 2, "\(w.reports.all)")
        XCTAssertTrue(errors.last?.contains(w.staff.publicIdentity.fingerprint) ?? false, "\(errors)")
    }

    func testARepeatedJSONMemberIsRefusedByTheServiceAndByTheClient() throws {
        let w = try OnlineWorld("duplicates")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("ida")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        let manifest = try w.manifest(path)

        // The service: a body naming `request` twice is malformed, and logged.
        let signed = SignedReleaseRequest.make(for: manifest, identity: counselID, at: w.clock.now())
        var text = String(decoding: signed.body, as: UTF8.self)
        text.removeLast()
        text += #","request":"dossier-release-request/1\n"}"#
        let r = try w.post(body: Data(text.utf8))
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(r.json["error"] as? String, "malformed")
        XCTAssertEqual(try w.entries("deny").filter { $0.detail("rule") == "online.malformed" }.count, 1)
        XCTAssertEqual(try w.entries("open").count, 0)

        // The client: an answer naming a member twice is not used, whatever its status.
        struct Repeating: KeyReleaseTransport {
            let status: Int
            let body: String
            func post(_ url: String, body: Data, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data) {
                (status, Data(self.body.utf8))
            }
        }
        let answers = [
            (200, #"{"status":"released","package":"\#(manifest.packageID)","share":"AAAA","package":"pkg-aaaaaaaaaaaaa"}"#),
            (403, #"{"error":"revoked","message":"revoked","error":"expired"}"#),
        ]
        for (status, body) in answers {
            let client = KeyReleaseClient(transport: Repeating(status: status, body: body), clock: w.clock)
            let error = caught { _ = try client.requestShare(for: manifest, identity: counselID) }
            guard case .keyReleaseUnavailable? = error else { return XCTFail("\(status): expected .keyReleaseUnavailable, got \(String(describing: error))") }
        }
        // Without the repetition, the same 403 is a refusal.
        let plain = KeyReleaseClient(transport: Repeating(status: 403, body: #"{"error":"revoked","message":"revoked"}"#), clock: w.clock)
        XCTAssertEqual(refusal(caught { _ = try plain.requestShare(for: manifest, identity: counselID) }), "revoked")
    }

    func testAVaultThatCannotLogAnswers503WithoutItsCauseAndCountsNothing() throws {
        let w = try OnlineWorld("no-log")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("ida")
        let (_, path) = try w.onlinePackage([doc], to: [counsel], maxOpens: 1)
        let database = try DatabaseQueue(path: w.root + "/vault/vault.sqlite")
        try database.write { try $0.execute(sql: "CREATE TRIGGER no_log BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'log unavailable'); END") }
        let out = try w.folder()
        let error = caught { _ = try w.open(path, as: counselID, into: out) }
        guard case let .keyReleaseUnavailable(_, reason)? = error else { return XCTFail("got \(String(describing: error))") }
        // The cause (SQL, the vault's path) is the operator's business, not the requester's.
        XCTAssertEqual(reason, "the key-release service cannot decide now; retry later")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
        try database.write { try $0.execute(sql: "DROP TRIGGER no_log") }
        XCTAssertEqual(try w.open(path, as: counselID).count, 1, "the refused attempt counted against the limit of 1")
        XCTAssertEqual(try w.entries("open").compactMap { $0.detail("opening") }, ["1/1"])
    }

    func testTheServiceKeepsWorkingAfterAnotherProcessRotatesTheVaultKey() throws {
        let w = try OnlineWorld("rotation")
        let doc = try w.document()
        let (counselID, counsel) = try w.counsel("max")
        let (_, path) = try w.onlinePackage([doc], to: [counsel])
        // Another process (another session on the same folder) rotates the key.
        let other = try Vault.open(at: w.root + "/vault", clock: w.clock).unlock(w.staff)
        _ = try other.staff.rotate()
        XCTAssertEqual(try w.open(path, as: counselID).count, 1)
    }
}

/// A raw TCP client that sends part of a request and stops.
final class SlowClient {
    let fd: Int32
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }
    deinit { close(fd) }
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
    }
    /// Everything the server sends until it closes the connection (or `timeout` seconds).
    func readAll(timeout: Int) -> String {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
