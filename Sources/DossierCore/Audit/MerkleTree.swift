import DossierCrypto
import Foundation

/// RFC 6962 / RFC 9162 Merkle trees over SHA-256: leaves hashed with a 0x00 prefix, nodes with
/// 0x01, and a tree of n leaves split at the largest power of two smaller than n.
public enum MerkleTree {
    /// SHA-256(0x00 ‖ leaf).
    public static func leafHash(_ leaf: Data) -> Data {
        leaf.withUnsafeBytes { Digest32.leafHash($0) }.data
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: Data, _ right: Data) -> Data {
        if let l = Digest32(left), let r = Digest32(right) { return Digest32.node(l, r).data }
        var h = SHA256()
        h.update(Data([1]))
        h.update(left)
        h.update(right)
        return h.finalize()
    }

    /// The root over leaf hashes; SHA-256 of nothing for an empty tree. Linear time: perfect
    /// subtrees are merged on a stack, then folded right to left, which is the RFC's split.
    public static func root<C: Collection>(leafHashes: C) -> Data where C.Element == Data {
        var tree = Frontier()
        for leaf in leafHashes {
            guard let digest = Digest32(leaf) else { return slowRoot(leafHashes: leafHashes) }
            tree.append(digest)
        }
        return tree.root.data
    }

    /// The same root for leaf hashes of any length (only the RFC 6962 vectors have such).
    private static func slowRoot<C: Collection>(leafHashes: C) -> Data where C.Element == Data {
        var stack: [(hash: Data, size: Int)] = []
        for leaf in leafHashes {
            stack.append((leaf, 1))
            while stack.count >= 2 && stack[stack.count - 1].size == stack[stack.count - 2].size {
                let right = stack.removeLast(), left = stack.removeLast()
                stack.append((nodeHash(left.hash, right.hash), left.size * 2))
            }
        }
        var acc = stack.removeLast().hash
        while let left = stack.popLast() { acc = nodeHash(left.hash, acc) }
        return acc
    }

    /// The right edge of a tree built leaf by leaf: the roots of its perfect subtrees (one per
    /// bit of the size, largest first). That is all it takes to compute the root and to keep
    /// appending, so a log can be verified onwards from a size without its earlier leaves.
    struct Frontier: Sendable {
        private(set) var size: UInt64 = 0
        /// Roots of the perfect subtrees, leftmost (largest) first.
        private(set) var nodes: [Digest32] = []
        /// The left siblings merged when the last leaf was appended, nearest first.
        private var lastMerges: [Digest32] = []

        init() {}

        mutating func append(_ leaf: Digest32) {
            lastMerges.removeAll(keepingCapacity: true)
            var hash = leaf
            var s = size
            while s & 1 == 1 {
                let left = nodes.removeLast()
                lastMerges.append(left)
                hash = Digest32.node(left, hash)
                s >>= 1
            }
            nodes.append(hash)
            size += 1
        }

        /// The tree hash of the `size` leaves appended.
        var root: Digest32 {
            guard var acc = nodes.last else { return Digest32.sha256(UnsafeRawBufferPointer(start: nil, count: 0)) }
            for left in nodes.dropLast().reversed() { acc = Digest32.node(left, acc) }
            return acc
        }

        /// PATH(size − 1, D[size]) of RFC 6962: the audit path of the last leaf, nearest first.
        var lastLeafPath: [Digest32] { lastMerges + nodes.dropLast().reversed() }

        /// The frontier of a tree of `size` leaves, from its last leaf hash and that leaf's audit
        /// path; nil if the path has the wrong length. The caller proves the path against a root.
        init?(size: UInt64, lastLeaf: Digest32, path: [Digest32]) {
            guard size >= 1 else { return nil }
            let inner = size.trailingZeroBitCount
            guard path.count == inner + size.nonzeroBitCount - 1 else { return nil }
            var hash = lastLeaf
            for sibling in path[0..<inner] { hash = Digest32.node(sibling, hash) }
            self.size = size
            nodes = path[inner...].reversed() + [hash]
            lastMerges = Array(path[0..<inner])
        }
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The audit path of leaf `index` in the tree of all `leafHashes` (RFC 6962 PATH).
    public static func inclusionProof(index: Int, leafHashes: ArraySlice<Data>) -> [Data] {
        let n = leafHashes.count
        guard n > 1 else { return [] }
        let k = largestPowerOfTwo(below: n)
        let start = leafHashes.startIndex
        if index < k {
            return inclusionProof(index: index, leafHashes: leafHashes[start..<start + k]) + [root(leafHashes: leafHashes[(start + k)...])]
        }
        return inclusionProof(index: index - k, leafHashes: leafHashes[(start + k)...]) + [root(leafHashes: leafHashes[start..<start + k])]
    }

    /// The consistency proof from the first `oldSize` leaves to all `leafHashes` (RFC 6962 PROOF).
    public static func consistencyProof(oldSize: Int, leafHashes: ArraySlice<Data>) -> [Data] {
        guard oldSize > 0, oldSize < leafHashes.count else { return [] }
        return subproof(oldSize, leafHashes, complete: true)
    }

    private static func subproof(_ m: Int, _ d: ArraySlice<Data>, complete: Bool) -> [Data] {
        let n = d.count
        if m == n { return complete ? [] : [root(leafHashes: d)] }
        let k = largestPowerOfTwo(below: n)
        let start = d.startIndex
        if m <= k {
            return subproof(m, d[start..<start + k], complete: complete) + [root(leafHashes: d[(start + k)...])]
        }
        return subproof(m - k, d[(start + k)...], complete: false) + [root(leafHashes: d[start..<start + k])]
    }

    /// Why a proof was refused.
    public enum ProofError: Error, Equatable, CustomStringConvertible {
        case indexOutOfRange, wrongProofLength, rootMismatch, badSizes, emptyOldTree

        public var description: String {
            switch self {
            case .indexOutOfRange: return "the leaf index is not inside the tree"
            case .wrongProofLength: return "the proof has the wrong number of hashes"
            case .rootMismatch: return "the proof does not lead to the root"
            case .badSizes: return "the tree sizes are inconsistent (the first is larger than the second)"
            case .emptyOldTree: return "a consistency proof from an empty tree proves nothing and is refused"
            }
        }
    }

    /// RFC 9162 §2.1.3.2.
    public static func verifyInclusion(leafIndex: UInt64, treeSize: UInt64, leafHash: Data, proof: [Data], root: Data) throws(ProofError) {
        guard leafIndex < treeSize else { throw .indexOutOfRange }
        guard leafHash.count == 32, root.count == 32 else { throw .rootMismatch }
        var fn = leafIndex, sn = treeSize - 1
        var r = leafHash
        for p in proof {
            guard p.count == 32 else { throw .wrongProofLength }
            if sn == 0 { throw .wrongProofLength }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    repeat { fn >>= 1; sn >>= 1 } while fn & 1 == 0 && fn != 0
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength }
        guard r == root else { throw .rootMismatch }
    }

    /// RFC 9162 §2.1.4.2. A first size of 0 is always refused (as transparency-dev/merkle does).
    public static func verifyConsistency(size1: UInt64, size2: UInt64, root1: Data, root2: Data, proof: [Data]) throws(ProofError) {
        guard size1 <= size2 else { throw .badSizes }
        guard size1 > 0 else { throw .emptyOldTree }
        if size1 == size2 {
            guard proof.isEmpty else { throw .wrongProofLength }
            guard root1 == root2 else { throw .rootMismatch }
            return
        }
        guard !proof.isEmpty, proof.allSatisfy({ $0.count == 32 }) else { throw .wrongProofLength }
        var path = proof
        if size1 & (size1 - 1) == 0 { path.insert(root1, at: 0) }
        var fn = size1 - 1, sn = size2 - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { throw .wrongProofLength }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    repeat { fn >>= 1; sn >>= 1 } while fn & 1 == 0 && fn != 0
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength }
        guard fr == root1, sr == root2 else { throw .rootMismatch }
    }
}
