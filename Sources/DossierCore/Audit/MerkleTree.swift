import DossierCrypto
import Foundation

/// RFC 6962 / RFC 9162 Merkle trees over SHA-256: leaves hashed with a 0x00 prefix, nodes with
/// 0x01, and a tree of n leaves split at the largest power of two smaller than n.
public enum MerkleTree {
    /// SHA-256(0x00 ‖ leaf).
    public static func leafHash(_ leaf: Data) -> Data {
        var h = SHA256()
        h.update(Data([0]))
        h.update(leaf)
        return h.finalize()
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: Data, _ right: Data) -> Data {
        var h = SHA256()
        h.update(Data([1]))
        h.update(left)
        h.update(right)
        return h.finalize()
    }

    /// The root over leaf hashes; SHA-256 of nothing for an empty tree. Linear time: perfect
    /// subtrees are merged on a stack, then folded right to left, which is the RFC's split.
    public static func root<C: Collection>(leafHashes: C) -> Data where C.Element == Data {
        guard !leafHashes.isEmpty else { return Hash.sha256(Data()) }
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
