import Foundation

/// Where the data shipped with the binary lives — calendars, SLA policy, sample catalog,
/// administrative units — wherever the binary is installed, without crashing when it is missing.
///
/// Looked for, in order: `$POSTAL_GATEWAY_DATA`; the build's resource bundle beside the
/// executable (`postal-gateway_PostalGateway.resources`, as `swift build` leaves it); and
/// `../share/postal-gateway` next to the executable's folder (as `deploy/install.sh` installs it).
enum BundledData {
  /// The resource bundle's name, as SwiftPM builds it.
  static let bundleName = "postal-gateway_PostalGateway.resources"

  /// The folders searched, in order.
  static var candidates: [String] {
    var folders: [String] = []
    if let configured = ProcessInfo.processInfo.environment["POSTAL_GATEWAY_DATA"],
      !configured.isEmpty
    {
      folders.append(configured)
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let folder = executable.deletingLastPathComponent()
    folders.append(folder.appendingPathComponent(Self.bundleName).path)
    folders.append(
      folder.deletingLastPathComponent().appendingPathComponent("share/postal-gateway").path
    )
    return folders
  }

  /// The first folder that holds the data.
  /// - Throws: ``ConfigurationError`` naming every folder tried.
  static func directory() throws -> String {
    let candidates = Self.candidates
    for folder in candidates
    where FileManager.default.fileExists(
      atPath: (folder as NSString).appendingPathComponent("calendars")
    ) {
      return folder
    }
    throw ConfigurationError(
      "the data shipped with postal-gateway (calendars, policies, catalog, admin-units) is not in "
        + candidates.joined(separator: ", ")
        + "; install it with deploy/install.sh, or set POSTAL_GATEWAY_DATA to its folder"
    )
  }

  /// A file or folder of the shipped data.
  static func path(_ relative: String) throws -> String {
    (try Self.directory() as NSString).appendingPathComponent(relative)
  }
}
