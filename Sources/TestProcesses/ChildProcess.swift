public import Foundation
import Glibc

/// A child process started with `posix_spawn`, its standard input and its combined output on pipes.
///
/// Tests use this instead of Foundation's `Process`: on Linux, `Process.run()` in Swift 6.3 reads
/// past the end of a `readdir` buffer while it closes descriptors and crashes now and then
/// (swiftlang/swift-corelibs-foundation#5472).
public struct ChildProcess: Sendable {
  /// The process id.
  public let pid: pid_t
  /// Writes to the child's standard input.
  public let input: FileHandle
  /// Reads the child's standard output and standard error, interleaved.
  public let output: FileHandle

  /// Starts `/usr/bin/env arguments…` (so the program is looked up on `PATH`), in `directory` when given.
  public static func spawn(
    _ arguments: [String],
    in directory: String? = nil
  ) throws -> ChildProcess {
    let stdin = try Self.pipe()
    let stdout = try Self.pipe()
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin.read, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout.write, 1)
    posix_spawn_file_actions_adddup2(&actions, stdout.write, 2)
    let argv = ["/usr/bin/env"] + (directory.map { ["-C", $0] } ?? []) + arguments
    var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for pointer in cArguments { free(pointer) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, "/usr/bin/env", &actions, nil, &cArguments, environ)
    close(stdin.read)
    close(stdout.write)
    guard status == 0 else {
      close(stdin.write)
      close(stdout.read)
      throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO)
    }
    return ChildProcess(
      pid: pid,
      input: FileHandle(fileDescriptor: stdin.write, closeOnDealloc: true),
      output: FileHandle(fileDescriptor: stdout.read, closeOnDealloc: true)
    )
  }

  /// Runs `arguments` to the end with no input; returns its exit status and everything it printed.
  public static func run(
    _ arguments: [String],
    in directory: String? = nil
  ) throws -> (
    status: Int32, output: String
  ) {
    let child = try Self.spawn(arguments, in: directory)
    try child.input.close()
    let printed = child.output.readDataToEndOfFile()
    return (child.wait(), String(decoding: printed, as: UTF8.self))
  }

  /// Waits for the child to exit; its exit status, or 128 + the signal that ended it.
  @discardableResult
  public func wait() -> Int32 {
    var status: Int32 = 0
    while waitpid(self.pid, &status, 0) == -1 && errno == EINTR {}
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }

  private static func pipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard Glibc.pipe(&fds) == 0 else {
      throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    // Not inherited by other children (dup2 onto 0, 1 and 2 clears the flag in this one's).
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
  }
}

/// Runs SQL on a database file with the sqlite3 command-line tool, as an operator (or an attacker
/// with file access) would.
public enum SQLiteTool {
  /// Runs `sql` on the database at `path`; returns what sqlite3 printed.
  public static func run(_ path: String, _ sql: String) throws -> String {
    try ChildProcess.run(["sqlite3", path, sql]).output
  }
}
