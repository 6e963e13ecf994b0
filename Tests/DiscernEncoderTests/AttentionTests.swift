import CDiscernKernels
import Foundation
import Testing

/// One head's attention (softmax(scale · Q·Kᵀ) · V), on every path this CPU runs, against the
/// definition computed naively in Double: lengths around the 16-lane and 8-row blocks, and head
/// sizes the AVX-512 path takes (multiples of 16) or leaves to OpenBLAS.
@Suite struct AttentionTests {
  static let shapes: [(n: Int, d: Int)] = [(1, 32), (2, 32), (7, 16), (16, 32), (17, 32), (33, 64), (128, 32), (9, 24)]
  static let paths: [dk_attention_path] = [DK_ATTENTION_BLAS, DK_ATTENTION_AVX512]

  /// Q|K|V rows as the encoder stacks them (three heads wide, this head the middle one), seeded.
  struct Head {
    let n: Int, d: Int, ld: Int
    let qkv: [Float]
    var offset: Int { d }

    init(n: Int, d: Int, seed: UInt64) {
      self.n = n
      self.d = d
      ld = 9 * d
      var state = seed
      qkv = (0..<n * ld).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int(state >> 40) % 2001 - 1000) / 250
      }
    }

    func at(_ row: Int, _ block: Int, _ column: Int) -> Double { Double(qkv[row * ld + block * 3 * d + offset + column]) }

    var expected: [Double] {
      let scale = 1 / Double(d).squareRoot()
      var out = [Double](repeating: 0, count: n * d)
      for i in 0..<n {
        let scores = (0..<n).map { j in scale * (0..<d).reduce(0) { $0 + at(i, 0, $1) * at(j, 1, $1) } }
        let top = scores.max()!
        let weights = scores.map { exp($0 - top) }
        let total = weights.reduce(0, +)
        for c in 0..<d { out[i * d + c] = (0..<n).reduce(0) { $0 + weights[$1] * at($1, 2, c) } / total }
      }
      return out
    }

    /// The head on `path` into rows of `ldo` floats (unwritten cells NaN); nil when the path cannot run it.
    func run(_ path: dk_attention_path, ldo: Int) -> [Float]? {
      var scratch = [Float](repeating: .nan, count: dk_attention_scratch_floats(Int32(n), Int32(d)))
      var out = [Float](repeating: .nan, count: n * ldo)
      let ran = qkv.withUnsafeBufferPointer { rows in
        let q = rows.baseAddress! + offset
        return dk_attention_head_on(
          path, q, q + 3 * d, q + 6 * d, Int32(ld), Int32(n), Int32(d), 1 / Float(d).squareRoot(), &scratch, &out, Int32(ldo))
      }
      return ran == 1 ? out : nil
    }
  }

  @Test(arguments: shapes) func everyPathComputesTheDefinition(shape: (n: Int, d: Int)) throws {
    let head = Head(n: shape.n, d: shape.d, seed: UInt64(shape.n * 100 + shape.d))
    let expected = head.expected
    var ran: [dk_attention_path] = []
    for path in Self.paths {
      guard let out = head.run(path, ldo: head.d) else { continue }
      ran.append(path)
      let worst = zip(out, expected).map { abs(Double($0) - $1) }.max()!
      #expect(worst < 1e-4, "path \(path.rawValue), n \(head.n), d \(head.d): worst error \(worst)")
    }
    #expect(ran.contains(DK_ATTENTION_BLAS))
  }

  /// The encoder writes each head into its own columns of the context rows: nothing else is touched.
  @Test func aHeadWritesOnlyItsColumns() throws {
    let head = Head(n: 20, d: 32, seed: 5)
    for path in Self.paths {
      guard let out = head.run(path, ldo: 3 * head.d) else { continue }
      for row in 0..<head.n {
        let cells = out[row * 3 * head.d..<(row + 1) * 3 * head.d]
        #expect(cells.prefix(head.d).allSatisfy { !$0.isNaN }, "path \(path.rawValue), row \(row)")
        #expect(cells.dropFirst(head.d).allSatisfy { $0.isNaN }, "path \(path.rawValue), row \(row)")
      }
    }
  }

  @Test func theAVX512PathIsTakenWhereItRunsAndOnlyForHeadSizesItTakes() {
    #expect(dk_attention_best_path(24) == DK_ATTENTION_BLAS)
    #expect(dk_attention_best_path(32) == (dk_has_avx512() == 1 ? DK_ATTENTION_AVX512 : DK_ATTENTION_BLAS))
    #expect(Head(n: 4, d: 24, seed: 1).run(DK_ATTENTION_AVX512, ldo: 24) == nil)
  }
}
