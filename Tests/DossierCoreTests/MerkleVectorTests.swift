import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// RFC 6962 / RFC 9162 Merkle trees (issue 5, points 1, 3 and 8): the transparency-dev/merkle
/// vectors in Vectors/external, and proofs for every small tree checked against a naive
/// implementation written here straight from RFC 6962 section 2.1.
final class MerkleVectorTests: XCTestCase {
    // MARK: Vector files

    struct ReferenceTree: Decodable {
        let leafInputsHex: [String]
        let nodeHashesHexByLevel: [[String]]
        let rootHashesHexBySize: [String]
    }

    struct InclusionCase: Decodable {
        let leafIdx: UInt64
        let treeSize: UInt64
        let root: String
        let leafHash: String
        let proof: [String]?
        let desc: String
        let wantErr: Bool
    }

    struct ConsistencyCase: Decodable {
        let size1: UInt64
        let size2: UInt64
        let root1: String
        let root2: String
        let proof: [String]?
        let desc: String
        let wantErr: Bool
    }

    static func hex(_ s: String, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        try XCTUnwrap(Data(hex: s), "bad hex in the vector: \(s)", file: file, line: line)
    }

    /// Base64 as the vectors write it; "" is an empty value (a deliberately bad hash).
    static func b64(_ s: String, _ where_: String) throws -> Data {
        try XCTUnwrap(Data(base64Encoded: s), "bad base64 in \(where_): \(s)")
    }

    func load<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: try Data(contentsOf: url))
        } catch {
            XCTFail("cannot read the vector \(url.path): \(error)")
            throw error
        }
    }

    // MARK: Naive RFC 6962 (section 2.1), over leaf hashes

    /// MTH(D[n]) for leaf hashes: the empty hash, the leaf hash, or the node of the split at
    /// the largest power of two smaller than n.
    static func naiveRoot(_ leaves: [Data]) -> Data {
        switch leaves.count {
        case 0: return Hash.sha256(Data())
        case 1: return leaves[0]
        default:
            let k = naiveSplit(leaves.count)
            return naiveNode(naiveRoot(Array(leaves[..<k])), naiveRoot(Array(leaves[k...])))
        }
    }

    static func naiveSplit(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    static func naiveLeaf(_ input: Data) -> Data { Hash.sha256(Data([0x00]) + input) }
    static func naiveNode(_ l: Data, _ r: Data) -> Data { Hash.sha256(Data([0x01]) + l + r) }

    /// PATH(m, D[n]).
    static func naivePath(_ m: Int, _ leaves: [Data]) -> [Data] {
        let n = leaves.count
        if n <= 1 { return [] }
        let k = naiveSplit(n)
        if m < k { return naivePath(m, Array(leaves[..<k])) + [naiveRoot(Array(leaves[k...]))] }
        return naivePath(m - k, Array(leaves[k...])) + [naiveRoot(Array(leaves[..<k]))]
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    static func naiveProof(_ m: Int, _ leaves: [Data]) -> [Data] { naiveSubproof(m, leaves, true) }

    static func naiveSubproof(_ m: Int, _ leaves: [Data], _ b: Bool) -> [Data] {
        let n = leaves.count
        if m == n { return b ? [] : [naiveRoot(leaves)] }
        let k = naiveSplit(n)
        if m <= k { return naiveSubproof(m, Array(leaves[..<k]), b) + [naiveRoot(Array(leaves[k...]))] }
        return naiveSubproof(m - k, Array(leaves[k...]), false) + [naiveRoot(Array(leaves[..<k]))]
    }

    // MARK: The reference tree

    func testHashingMatchesTheDefinitions() throws {
        // The prefixes are what separate a leaf from a node: same bytes, different hashes.
        let a = Data(repeating: 0xaa, count: 32), b = Data(repeating: 0xbb, count: 32)
        XCTAssertEqual(MerkleTree.leafHash(a + b), Self.naiveLeaf(a + b))
        XCTAssertEqual(MerkleTree.nodeHash(a, b), Self.naiveNode(a, b))
        XCTAssertNotEqual(MerkleTree.leafHash(a + b), MerkleTree.nodeHash(a, b))
        XCTAssertEqual(MerkleTree.root(leafHashes: [Data]()).hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                       "the empty tree's root is SHA-256 of nothing")
    }

    func testReferenceTreeRootsForEverySizeFromZeroToEight() throws {
        let tree = try load(ReferenceTree.self, try AuditVectors.item("transparency-dev-merkle/reference-tree.json"))
        let inputs = try tree.leafInputsHex.map { try Self.hex($0) }
        XCTAssertEqual(inputs.count, 8)
        XCTAssertEqual(tree.rootHashesHexBySize.count, 9, "roots for sizes 0 to 8")
        let leaves = inputs.map(MerkleTree.leafHash)
        for (size, want) in tree.rootHashesHexBySize.enumerated() {
            XCTAssertEqual(MerkleTree.root(leafHashes: leaves[0..<size]).hex, want, "root of the first \(size) leaves")
            XCTAssertEqual(Self.naiveRoot(Array(leaves[0..<size])).hex, want, "the naive root of \(size) leaves (checks the test itself)")
        }
    }

    func testReferenceTreeEveryNodeHash() throws {
        let tree = try load(ReferenceTree.self, try AuditVectors.item("transparency-dev-merkle/reference-tree.json"))
        let leaves = try tree.leafInputsHex.map { MerkleTree.leafHash(try Self.hex($0)) }
        XCTAssertEqual(tree.nodeHashesHexByLevel.map(\.count), [8, 4, 2, 1])
        var checked = 0
        for (level, nodes) in tree.nodeHashesHexByLevel.enumerated() {
            let width = 1 << level
            for (i, want) in nodes.enumerated() {
                // Node i of a level covers leaves [i·2^level, (i+1)·2^level).
                let subtree = leaves[(i * width)..<((i + 1) * width)]
                XCTAssertEqual(MerkleTree.root(leafHashes: subtree).hex, want, "node \(i) at level \(level)")
                if level > 0 {
                    let below = tree.nodeHashesHexByLevel[level - 1]
                    XCTAssertEqual(MerkleTree.nodeHash(try Self.hex(below[2 * i]), try Self.hex(below[2 * i + 1])).hex, want,
                                   "node \(i) at level \(level) from its children")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 15)
    }

    // MARK: Inclusion vectors

    func testEveryInclusionVector() throws {
        let folder = try AuditVectors.item("transparency-dev-merkle/testdata/inclusion")
        let files = AuditVectors.jsonFiles(under: folder)
        XCTAssertGreaterThanOrEqual(files.count, 90, "the inclusion vectors are incomplete in \(folder.path)")
        var happy = 0, refused = 0
        for url in files {
            let name = url.path.replacingOccurrences(of: folder.path + "/", with: "")
            let c = try load(InclusionCase.self, url)
            let root = try Self.b64(c.root, name), leaf = try Self.b64(c.leafHash, name)
            let proof = try (c.proof ?? []).map { try Self.b64($0, name) }
            let outcome = Result { () throws(MerkleTree.ProofError) in
                try MerkleTree.verifyInclusion(leafIndex: c.leafIdx, treeSize: c.treeSize, leafHash: leaf, proof: proof, root: root)
            }
            switch (c.wantErr, outcome) {
            case (false, .success): happy += 1
            case (true, .failure): refused += 1
            case (false, .failure(let e)): XCTFail("inclusion \(name) (\(c.desc)) must verify, but was refused: \(e)")
            case (true, .success): XCTFail("inclusion \(name) (\(c.desc)) must be refused, but verified")
            }
        }
        XCTAssertGreaterThanOrEqual(happy, 6, "happy paths checked")
        XCTAssertGreaterThanOrEqual(refused, 80, "refusals checked")
    }

    /// The happy paths also come out of our own prover: the same audit path, hash for hash.
    func testInclusionHappyPathsAreWhatWeProve() throws {
        let tree = try load(ReferenceTree.self, try AuditVectors.item("transparency-dev-merkle/reference-tree.json"))
        let leaves = try tree.leafInputsHex.map { MerkleTree.leafHash(try Self.hex($0)) }
        let folder = try AuditVectors.item("transparency-dev-merkle/testdata/inclusion")
        var compared = 0
        for url in AuditVectors.jsonFiles(under: folder) where url.lastPathComponent == "happy-path.json" {
            let c = try load(InclusionCase.self, url)
            guard c.treeSize <= 8, try Self.b64(c.root, url.path) == MerkleTree.root(leafHashes: leaves[0..<Int(c.treeSize)]) else { continue }
            let ours = MerkleTree.inclusionProof(index: Int(c.leafIdx), leafHashes: leaves[0..<Int(c.treeSize)])
            XCTAssertEqual(ours.map { $0.base64EncodedString() }, c.proof ?? [], "our proof for \(url.path)")
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 4, "happy paths over the reference tree")
    }

    // MARK: Consistency vectors

    func testEveryConsistencyVector() throws {
        let folder = try AuditVectors.item("transparency-dev-merkle/testdata/consistency")
        let files = AuditVectors.jsonFiles(under: folder)
        XCTAssertGreaterThanOrEqual(files.count, 95, "the consistency vectors are incomplete in \(folder.path)")
        var happy = 0, refused = 0, sizeZero = 0
        for url in files {
            let name = url.path.replacingOccurrences(of: folder.path + "/", with: "")
            let c = try load(ConsistencyCase.self, url)
            let r1 = try Self.b64(c.root1, name), r2 = try Self.b64(c.root2, name)
            let proof = try (c.proof ?? []).map { try Self.b64($0, name) }
            let outcome = Result { () throws(MerkleTree.ProofError) in
                try MerkleTree.verifyConsistency(size1: c.size1, size2: c.size2, root1: r1, root2: r2, proof: proof)
            }
            if c.size1 == 0 {
                sizeZero += 1
                // Our documented rule: a first size of 0 is refused. The vectors must agree;
                // one that expects success would contradict the rule (see docs/formats/log.md).
                XCTAssertTrue(c.wantErr, "vector \(name) expects a first size of 0 to be accepted, against our documented rule")
            }
            switch (c.wantErr, outcome) {
            case (false, .success): happy += 1
            case (true, .failure): refused += 1
            case (false, .failure(let e)): XCTFail("consistency \(name) (\(c.desc)) must verify, but was refused: \(e)")
            case (true, .success): XCTFail("consistency \(name) (\(c.desc)) must be refused, but verified")
            }
        }
        XCTAssertGreaterThanOrEqual(happy, 6, "happy paths checked")
        XCTAssertGreaterThanOrEqual(refused, 90, "refusals checked")
        XCTAssertGreaterThanOrEqual(sizeZero, 8, "cases with a first size of 0 checked")
    }

    /// The documented rule for a first size of 0 (docs/formats/log.md): refused whenever the
    /// second size is larger, whatever the proof, since it proves nothing.
    func testFirstSizeZeroIsRefused() {
        let empty = Hash.sha256(Data())
        for size2: UInt64 in [1, 2, 7, 8] {
            for proof in [[], [empty]] {
                XCTAssertThrowsError(try MerkleTree.verifyConsistency(size1: 0, size2: size2, root1: empty, root2: empty, proof: proof)) {
                    XCTAssertEqual($0 as? MerkleTree.ProofError, .emptyOldTree, "0 → \(size2)")
                }
            }
        }
        XCTAssertEqual(MerkleTree.consistencyProof(oldSize: 0, leafHashes: [empty, empty][...]), [])
    }

    // MARK: Every small tree, proved and checked

    static func testLeaves(_ n: Int) -> [Data] {
        (0..<n).map { MerkleTree.leafHash(Data("leaf \($0) of a test tree".utf8)) }
    }

    func testRootsMatchTheNaiveDefinitionForSizesUpTo40() {
        for n in 0...40 {
            let leaves = Self.testLeaves(n)
            XCTAssertEqual(MerkleTree.root(leafHashes: leaves), Self.naiveRoot(leaves), "size \(n)")
            // A slice that does not start at index 0 gives the same root as a fresh array.
            let padded = [Data(repeating: 9, count: 32)] + leaves
            XCTAssertEqual(MerkleTree.root(leafHashes: padded[1...]), Self.naiveRoot(leaves), "size \(n), sliced")
        }
    }

    func testInclusionProofsForEveryLeafOfEveryTreeUpTo40() throws {
        for n in 1...40 {
            let leaves = Self.testLeaves(n)
            let root = Self.naiveRoot(leaves)
            for i in 0..<n {
                let proof = MerkleTree.inclusionProof(index: i, leafHashes: leaves[...])
                XCTAssertEqual(proof, Self.naivePath(i, leaves), "PATH(\(i), D[\(n)])")
                XCTAssertNoThrow(try MerkleTree.verifyInclusion(leafIndex: UInt64(i), treeSize: UInt64(n), leafHash: leaves[i], proof: proof, root: root),
                                 "leaf \(i) of \(n)")
                // The same proof does not work for another leaf or with a changed hash.
                let other = (i + 1) % n
                if other != i {
                    XCTAssertThrowsError(try MerkleTree.verifyInclusion(leafIndex: UInt64(i), treeSize: UInt64(n), leafHash: leaves[other], proof: proof, root: root),
                                         "leaf \(other)'s hash at index \(i) of \(n)")
                }
                for j in proof.indices {
                    var bad = proof
                    bad[j][0] ^= 0x01
                    XCTAssertThrowsError(try MerkleTree.verifyInclusion(leafIndex: UInt64(i), treeSize: UInt64(n), leafHash: leaves[i], proof: bad, root: root),
                                         "leaf \(i) of \(n), proof hash \(j) changed")
                }
            }
            XCTAssertThrowsError(try MerkleTree.verifyInclusion(leafIndex: UInt64(n), treeSize: UInt64(n), leafHash: leaves[0], proof: [], root: root)) {
                XCTAssertEqual($0 as? MerkleTree.ProofError, .indexOutOfRange)
            }
        }
    }

    func testConsistencyProofsForEveryOldSizeOfEveryTreeUpTo40() throws {
        for n in 1...40 {
            let leaves = Self.testLeaves(n)
            let root2 = Self.naiveRoot(leaves)
            for m in 1...n {
                let root1 = Self.naiveRoot(Array(leaves[..<m]))
                let proof = MerkleTree.consistencyProof(oldSize: m, leafHashes: leaves[...])
                XCTAssertEqual(proof, m == n ? [] : Self.naiveProof(m, leaves), "PROOF(\(m), D[\(n)])")
                XCTAssertNoThrow(try MerkleTree.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: root1, root2: root2, proof: proof),
                                 "\(m) → \(n)")
                guard m < n else { continue }
                // A log that did not only grow: another old root, or a changed proof, is refused.
                let otherOld = Self.naiveRoot(Array(leaves[..<(m - 1)]) + [MerkleTree.leafHash(Data("rewritten".utf8))])
                XCTAssertThrowsError(try MerkleTree.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: otherOld, root2: root2, proof: proof),
                                     "\(m) → \(n) with entry \(m) rewritten")
                XCTAssertThrowsError(try MerkleTree.verifyConsistency(size1: UInt64(n), size2: UInt64(m), root1: root2, root2: root1, proof: proof)) {
                    XCTAssertEqual($0 as? MerkleTree.ProofError, .badSizes)
                }
                for j in proof.indices {
                    var bad = proof
                    bad[j][31] ^= 0x80
                    XCTAssertThrowsError(try MerkleTree.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: root1, root2: root2, proof: bad),
                                         "\(m) → \(n), proof hash \(j) changed")
                }
                XCTAssertThrowsError(try MerkleTree.verifyConsistency(size1: UInt64(m), size2: UInt64(n), root1: root1, root2: root2, proof: proof + [root1]),
                                     "\(m) → \(n) with a hash too many")
            }
        }
    }
}
