/// The order composites need: every rule after the rules it reads.
enum DependencyOrder {
  /// Indices into `rules` in evaluation order, or nil after reporting a cycle.
  static func order(_ rules: [RuleDefinition], diagnostics: inout DiagnosticList) -> [Int]? {
    let index = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.id, $0) })
    enum State { case unvisited, visiting, done }
    var state = [State](repeating: .unvisited, count: rules.count)
    var order: [Int] = []
    var path: [Int] = []
    var cycle: Diagnostic?

    func visit(_ i: Int) {
      if cycle != nil { return }
      switch state[i] {
      case .done: return
      case .visiting:
        let ids = path.drop { $0 != i }.map { rules[$0].id } + [rules[i].id]
        let closing = rules[path.last!].allReferences.first { $0.id == rules[i].id }!
        cycle = .error("rules form a cycle: \(ids.joined(separator: " → "))", at: closing.mark)
        return
      case .unvisited:
        state[i] = .visiting
        path.append(i)
        for reference in rules[i].allReferences {
          if let j = index[reference.id] { visit(j) }
        }
        path.removeLast()
        state[i] = .done
        order.append(i)
      }
    }
    for i in rules.indices { visit(i) }
    guard let cycle else { return order }
    diagnostics.append(cycle)
    return nil
  }
}
