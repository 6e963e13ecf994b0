import DiscernModel
import Foundation

/// Why a learned model folder was not written.
public enum LearnedModelError: Error, CustomStringConvertible, Equatable {
  case exists(folder: String)
  case write(folder: String, reason: String)

  public var description: String {
    switch self {
    case .exists(let folder): "'\(folder)' already exists; pass a new folder to --out (a learned model never overwrites one)"
    case .write(let folder, let reason): "cannot write the model folder '\(folder)': \(reason)"
    }
  }
}

extension LearnResult {
  /// Writes the learned model as a normal model folder: model.json, plus the starting model's
  /// heads.safetensors and tuned encoder/ (learning changes neither). It is built beside `folder` and
  /// moved into place once it loads, so a failed write leaves no half model behind.
  public func write(to folder: String, from startingFolder: String) throws(LearnedModelError) {
    let files = FileManager.default
    guard !files.fileExists(atPath: folder) else { throw .exists(folder: folder) }
    let staging = folder + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
    do {
      try? files.removeItem(atPath: staging)
      try model.save(folder: staging)
      for name in ["heads.safetensors", "encoder"] where files.fileExists(atPath: startingFolder + "/" + name) {
        try files.copyItem(atPath: startingFolder + "/" + name, toPath: staging + "/" + name)
      }
      // What every command that loads it checks (finite weights, labels matching the heads).
      _ = try FusionModel.load(folder: staging)
      try files.moveItem(atPath: staging, toPath: folder)
    } catch {
      try? files.removeItem(atPath: staging)
      throw .write(folder: folder, reason: "\(error)")
    }
  }
}
