import Foundation

/// The data files Discern decides with, each found by one search order wherever the binary runs.
public enum Resource: String, CaseIterable, Sendable {
  case rules, policy, lexicon, lexicons, model, encoder

  /// Where the resource sits inside a Discern folder, in the order tried: an installed tree
  /// (`<prefix>/share/discern`) keeps the base encoder in `encoder/`, a checkout in `.models/`.
  public var relativePaths: [String] {
    switch self {
    case .rules: ["Rules"]
    case .policy: ["Rules/policy.yaml"]
    case .lexicon: ["Lexicons/cesm.yaml"]
    case .lexicons: ["Lexicons"]
    case .model: ["Models/default"]
    case .encoder: ["encoder", ".models/all-MiniLM-L6-v2"]
    }
  }

  /// What the error calls it.
  public var noun: String {
    switch self {
    case .rules: "rules folder"
    case .policy: "policy file"
    case .lexicon: "emoji lexicon"
    case .lexicons: "lexicon folder"
    case .model: "model folder"
    case .encoder: "base encoder folder"
    }
  }

  /// The flag that names it explicitly.
  public var flag: String { "--\(rawValue)" }

  /// A path only counts when it holds what the resource needs: a folder of the right kind is
  /// not enough for a model or an encoder without its config.
  func isPresent(at path: String) -> Bool {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
    switch self {
    case .rules, .lexicons: return isDirectory.boolValue
    case .policy, .lexicon: return !isDirectory.boolValue
    case .model: return FileManager.default.fileExists(atPath: path + "/model.json")
    case .encoder: return FileManager.default.fileExists(atPath: path + "/config.json")
    }
  }
}

/// Finds Discern's resources by one order: an explicit flag, then `$DISCERN_HOME`, then the install
/// prefix's `share/discern` (the prefix read from the running binary's real path, `<prefix>/bin/discern`),
/// then the checkout the binary was built in (the folder holding Package.swift above it). Never the
/// working directory alone: a command must decide the same way from wherever it is started.
public struct ResourceLocator: Sendable {
  /// One Discern folder the search may look in, or why there is none.
  public enum Root: Sendable, Equatable {
    case home(String)
    case homeUnset
    case installed(String)
    case notInstalled(binary: String)
    case checkout(String)
    case noCheckout(binary: String)

    var folder: String? {
      switch self {
      case .home(let folder), .installed(let folder), .checkout(let folder): folder
      case .homeUnset, .notInstalled, .noCheckout: nil
      }
    }

    /// How the error line names this place.
    func tried(_ paths: [String]) -> String {
      switch self {
      case .home: paths.joined(separator: ", ") + " (DISCERN_HOME)"
      case .homeUnset: "DISCERN_HOME (not set)"
      case .installed: paths.joined(separator: ", ") + " (install prefix)"
      case .notInstalled(let binary): "no install prefix (\(binary) is not in a bin folder)"
      case .checkout: paths.joined(separator: ", ") + " (checkout)"
      case .noCheckout(let binary): "no checkout (no Package.swift above \(binary))"
      }
    }
  }

  /// The resource was not given and is in none of the places tried.
  public struct NotFound: Error, CustomStringConvertible, Sendable {
    public let resource: Resource
    public let tried: [String]

    public var description: String {
      "no \(resource.noun) found; tried \(tried.joined(separator: ", ")). "
        + "Set DISCERN_HOME to a Discern folder (Rules/, Lexicons/, Models/default, encoder/), "
        + "run 'make install' in the checkout, or pass \(resource.flag)."
    }
  }

  /// The places after the flag, in search order.
  public let roots: [Root]

  public init(roots: [Root]) { self.roots = roots }

  /// The roots of this process: `DISCERN_HOME` from the environment and the real path of the
  /// running binary (`/proc/self/exe`, not `argv[0]`, which a shell or a symlink can make anything).
  public init(environment: [String: String] = ProcessInfo.processInfo.environment, binary: String = Self.runningBinary) {
    var roots: [Root] = []
    if let home = environment["DISCERN_HOME"], !home.isEmpty { roots.append(.home(home)) } else { roots.append(.homeUnset) }
    let binaryURL = URL(fileURLWithPath: binary)
    let binFolder = binaryURL.deletingLastPathComponent()
    if binFolder.lastPathComponent == "bin" {
      roots.append(.installed(binFolder.deletingLastPathComponent().appendingPathComponent("share/discern").path))
    } else {
      roots.append(.notInstalled(binary: binary))
    }
    roots.append(Self.checkout(above: binFolder).map(Root.checkout) ?? .noCheckout(binary: binary))
    self.roots = roots
  }

  /// The running executable's real path (symlinks resolved).
  public static var runningBinary: String {
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return exe }
    return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
  }

  /// The nearest folder at or above `folder` holding Package.swift: a binary under `.build/` is
  /// the checkout's own.
  static func checkout(above folder: URL) -> String? {
    var current = folder.standardizedFileURL
    while current.path != "/" {
      if FileManager.default.fileExists(atPath: current.appendingPathComponent("Package.swift").path) { return current.path }
      current = current.deletingLastPathComponent()
    }
    return nil
  }

  /// `flag` when given (as the user wrote it, relative to the working directory), else the first
  /// place in search order that holds the resource.
  public func path(_ resource: Resource, flag: String? = nil) throws(NotFound) -> String {
    if let flag { return flag }
    var tried: [String] = []
    for root in roots {
      let paths = root.folder.map { folder in resource.relativePaths.map { folder + "/" + $0 } } ?? []
      if let found = paths.first(where: resource.isPresent) { return found }
      tried.append(root.tried(paths))
    }
    throw NotFound(resource: resource, tried: tried)
  }

  /// Like `path`, but nil when the resource is nowhere: for optional data (the emoji lexicon a
  /// glossed encoder reads; an encoder that needs it then says so).
  public func optionalPath(_ resource: Resource, flag: String? = nil) -> String? {
    try? path(resource, flag: flag)
  }
}
