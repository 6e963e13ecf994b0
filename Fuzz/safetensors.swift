// Fuzz target `safetensors`: SafeTensorsFile(path:) — the 8-byte header length, the JSON header, the
// checked arithmetic over dtypes, shapes and data offsets — on the input written to a scratch file,
// then everything a loader does with an accepted file: every float tensor read with its own shape
// (F32 in place or copied, F16 and BF16 widened; `tensor(_:shape:)` reads the map without checks,
// trusting the header checks, so ASan and the mapping's end are the judges), a shape mismatch and a
// missing name refused, the fingerprint over every byte, and the error descriptions. Checked besides
// crashes: every accepted tensor lies inside the file, and holds product(shape) × width bytes.
// Public API of DiscernEncoder only.
import DiscernEncoder
import Foundation

/// In memory when it can be (/dev/shm): rewriting a file on ext4 after O_TRUNC waits for the disk on
/// close, which made this target spend most of its time waiting.
let scratchDirectory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
let path = scratchDirectory + "/discern-fuzz-\(getpid()).safetensors"
let widths = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

func write(_ bytes: UnsafeBufferPointer<UInt8>) {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  guard fd >= 0 else { fatalError("safetensors: cannot write \(path): \(String(cString: strerror(errno)))") }
  var done = 0
  while done < bytes.count {
    let wrote = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
    guard wrote > 0 else { fatalError("safetensors: write failed") }
    done += wrote
  }
  close(fd)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  write(bytes)
  // The file is mapped once opened: the name can go at once (fork mode's jobs end without atexit).
  defer { unlink(path) }
  let file: SafeTensorsFile
  do {
    file = try SafeTensorsFile(path: path)
  } catch {
    _ = error.description
    return 0
  }
  // The header length as the file states it; accepted means it fits.
  let headerLength = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
  let dataStart = 8 + Int(headerLength)
  for name in file.tensors.keys.sorted() {
    let info = file.tensors[name]!
    guard let width = widths[info.dtype] else { fatalError("safetensors: '\(name)' accepted with dtype '\(info.dtype)'") }
    let count = info.shape.reduce(1, *)
    guard info.range.lowerBound >= 0, dataStart + info.range.upperBound <= size, info.range.count == count * width else {
      fatalError("safetensors: '\(name)' \(info.dtype) \(info.shape) accepted at data \(info.range) in a file of \(size) bytes (data from \(dataStart))")
    }
    guard ["F32", "F16", "BF16"].contains(info.dtype) else {
      guard (try? file.tensor(name, shape: info.shape)) == nil else { fatalError("safetensors: '\(name)' \(info.dtype) read as floats") }
      continue
    }
    do {
      let tensor = try file.tensor(name, shape: info.shape)
      guard tensor.values.count == count, tensor.shape == info.shape else {
        fatalError("safetensors: '\(name)' read \(tensor.values.count) values for shape \(info.shape)")
      }
      var sum: Float = 0
      for value in tensor.values { sum += value.isFinite ? value : 0 }
      _ = try file.floats(name, shape: info.shape)
      _ = sum
    } catch {
      fatalError("safetensors: '\(name)' accepted in the header but not readable: \(error)")
    }
    if (try? file.tensor(name, shape: info.shape + [1, 2])) != nil { fatalError("safetensors: '\(name)' read with another shape") }
  }
  if (try? file.tensor("\u{1}no such tensor", shape: [1])) != nil { fatalError("safetensors: a missing tensor read") }
  _ = file.fingerprint(extra: Data("fuzz".utf8))
  _ = file.metadata.count
  return 0
}
