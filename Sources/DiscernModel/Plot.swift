import Foundation

/// An SVG a person can open: per label, the reliability diagram and the precision–recall curve of
/// the fused model.
public enum EvaluationPlot {
  public static func svg(_ evaluation: Evaluation, split: String) -> String {
    var byLabel: [(label: String, probabilities: [Double], truth: [Int])] = []
    for label in allLabels {
      let cells = evaluation.cells.filter { $0.label == label && !$0.weak }
      guard !cells.isEmpty else { continue }
      byLabel.append((label, cells.flatMap(\.fusedProbabilities), cells.flatMap(\.truth)))
    }
    return svg(byLabel, caption: split)
  }

  /// One row per label: the reliability diagram (titled with `caption`) and the precision–recall curve.
  public static func svg(_ byLabel: [(label: String, probabilities: [Double], truth: [Int])], caption split: String) -> String {
    let panel = 260.0, margin = 50.0, rowHeight = panel + 2 * margin
    let width = 2 * (panel + 2 * margin), height = max(1, Double(byLabel.count)) * rowHeight
    var out = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
      <rect width="100%" height="100%" fill="white"/>

      """
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    for (row, entry) in byLabel.enumerated() {
      let top = Double(row) * rowHeight + margin
      for column in 0..<2 {
        let left = Double(column) * (panel + 2 * margin) + margin
        func x(_ v: Double) -> Double { left + v * panel }
        func y(_ v: Double) -> Double { top + (1 - v) * panel }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(panel))\" height=\"\(f(panel))\" fill=\"none\" stroke=\"#999\"/>\n"
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
          out += "<text x=\"\(f(x(tick)))\" y=\"\(f(top + panel + 14))\" text-anchor=\"middle\">\(tick)</text>\n"
          out += "<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">\(tick)</text>\n"
        }
        if column == 0 {
          let table = Reliability(probabilities: entry.probabilities, truth: entry.truth)
          out += "<text x=\"\(f(left))\" y=\"\(f(top - 10))\" font-weight=\"bold\">\(entry.label) — reliability (\(split), ECE \(String(format: "%.3f", table.ece)))</text>\n"
          out += "<line x1=\"\(f(x(0)))\" y1=\"\(f(y(0)))\" x2=\"\(f(x(1)))\" y2=\"\(f(y(1)))\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n"
          let points = table.bins.filter { $0.count > 0 }.map { "\(f(x($0.meanProbability))),\(f(y($0.positiveRate)))" }
          out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
          for bin in table.bins where bin.count > 0 {
            let radius = 2 + 4 * (Double(bin.count) / Double(entry.truth.count)).squareRoot()
            out += "<circle cx=\"\(f(x(bin.meanProbability)))\" cy=\"\(f(y(bin.positiveRate)))\" r=\"\(f(radius))\" fill=\"#1f77b4\"/>\n"
          }
          out += "<text x=\"\(f(left + panel / 2))\" y=\"\(f(top + panel + 30))\" text-anchor=\"middle\">predicted probability</text>\n"
          out += "<text x=\"\(f(left - 34))\" y=\"\(f(top + panel / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(left - 34)) \(f(top + panel / 2)))\">observed rate</text>\n"
        } else {
          let order = entry.probabilities.indices.sorted { entry.probabilities[$0] > entry.probabilities[$1] }
          let positives = max(1, entry.truth.filter { $0 == 1 }.count)
          var hits = 0
          var points: [String] = []
          for (rank, index) in order.enumerated() {
            if entry.truth[index] == 1 { hits += 1 }
            points.append("\(f(x(Double(hits) / Double(positives)))),\(f(y(Double(hits) / Double(rank + 1))))")
          }
          let ap = LabelMetrics.averagePrecision(entry.probabilities, entry.truth)
          out += "<text x=\"\(f(left))\" y=\"\(f(top - 10))\" font-weight=\"bold\">precision–recall (AUPRC \(String(format: "%.3f", ap)))</text>\n"
          out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
          out += "<text x=\"\(f(left + panel / 2))\" y=\"\(f(top + panel + 30))\" text-anchor=\"middle\">recall</text>\n"
          out += "<text x=\"\(f(left - 34))\" y=\"\(f(top + panel / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(left - 34)) \(f(top + panel / 2)))\">precision</text>\n"
        }
      }
    }
    return out + "</svg>\n"
  }
}
