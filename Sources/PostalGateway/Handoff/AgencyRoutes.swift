import Foundation
import Synchronization
import Tracking

/// How the gateway reaches one agency's system.
struct AgencyRoute: Sendable, Equatable {
  /// Where and how to push.
  struct Endpoint: Sendable, Equatable {
    /// The agency's `AgencyIntake` server.
    var address: GatewayConfiguration.Listener
    /// The CA that signs the agency's server certificate (PEM). Nothing else is trusted.
    var serverCAPEM: String
    /// The certificate chain the gateway presents (PEM).
    var clientCertificatePEM: String
    /// Its private key (PEM).
    var clientKeyPEM: String

    var description: String { "\(self.address.host):\(self.address.port)" }
  }

  var agency: AgencyCode
  var mode: HandoffMode
  /// Set for push, `nil` for pull.
  var endpoint: Endpoint?
}

/// The routing file: which agencies receive dossiers electronically, and how.
///
/// ```json
/// { "agencies": [
///   { "agency": "000.00.00.H55", "mode": "push", "endpoint": "intake.example.vn:9443",
///     "serverCA": "agency-h55-ca.pem", "clientCertificate": "gateway-client.pem",
///     "clientKey": "gateway-client-key.pem" },
///   { "agency": "000.00.15.H55", "mode": "pull" }
/// ] }
/// ```
///
/// The agency's server certificate must name the endpoint's host (DNS name or IP address) and
/// chain to `serverCA`. Relative paths are relative to the routing file. An agency that is not listed gets its
/// dossiers on paper only.
enum AgencyRoutesFile {
  private struct File: Decodable {
    struct Entry: Decodable {
      var agency: String
      var mode: String
      var endpoint: String?
      var serverCA: String?
      var clientCertificate: String?
      var clientKey: String?
    }
    var agencies: [Entry]
  }

  /// Reads and checks a routing file, and the PEM files it names.
  /// - Throws: ``ConfigurationError`` naming the entry and what is wrong.
  static func load(path: String) throws -> [AgencyRoute] {
    let file: File
    do {
      file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
      throw ConfigurationError("routing file \(path): \(FileProblem.describe(error))")
    }
    let base = (path as NSString).deletingLastPathComponent
    func read(_ file: String?, _ key: String, _ index: Int) throws -> String {
      guard let file, !file.isEmpty else {
        throw ConfigurationError("agencies[\(index)].\(key) is required for push")
      }
      let resolved = file.hasPrefix("/") ? file : (base as NSString).appendingPathComponent(file)
      guard let data = FileManager.default.contents(atPath: resolved) else {
        throw ConfigurationError("agencies[\(index)].\(key): cannot read \(resolved)")
      }
      return String(decoding: data, as: UTF8.self)
    }
    var routes: [AgencyRoute] = []
    var seen: Set<AgencyCode> = []
    for (index, entry) in file.agencies.enumerated() {
      guard let agency = try? AgencyCode(validating: entry.agency) else {
        throw ConfigurationError("agencies[\(index)].agency must have the form DDD.DD.DD.LDD")
      }
      guard seen.insert(agency).inserted else {
        throw ConfigurationError("agencies[\(index)]: \(agency) is listed twice")
      }
      switch entry.mode.lowercased() {
      case "pull":
        routes.append(AgencyRoute(agency: agency, mode: .pull, endpoint: nil))
      case "push":
        guard let endpoint = entry.endpoint else {
          throw ConfigurationError("agencies[\(index)].endpoint (host:port) is required for push")
        }
        routes.append(
          AgencyRoute(
            agency: agency,
            mode: .push,
            endpoint: AgencyRoute.Endpoint(
              address: try GatewayConfiguration.Listener(address: endpoint),
              serverCAPEM: try read(entry.serverCA, "serverCA", index),
              clientCertificatePEM: try read(entry.clientCertificate, "clientCertificate", index),
              clientKeyPEM: try read(entry.clientKey, "clientKey", index)
            )
          )
        )
      default:
        throw ConfigurationError("agencies[\(index)].mode must be push or pull")
      }
    }
    return routes
  }
}

/// The routing file in force: replaced on SIGHUP, with a version that the dispatcher waits on
/// so that it restarts its push workers for the new routes.
final class RouteTable: Sendable {
  private let routes: Mutex<[AgencyRoute]>
  private let changes = ChangeSignal()
  /// What the domain decides with (which agencies get an electronic handoff).
  let modes: HandoffRoutesHolder

  init(_ routes: [AgencyRoute]) {
    self.routes = Mutex(routes)
    self.modes = HandoffRoutesHolder(Self.modes(routes))
  }

  /// The routes in force and their version. (The version is read first: routes replaced in
  /// between come with the older version, so a wait on it returns at once.)
  var snapshot: (routes: [AgencyRoute], version: Int) {
    let version = self.changes.version
    return (self.routes.withLock { $0 }, version)
  }

  /// The routes by agency.
  var byAgency: [AgencyCode: AgencyRoute] {
    Dictionary(self.routes.withLock { $0 }.map { ($0.agency, $0) }) { $1 }
  }

  /// Puts new routes in force and wakes whoever waits for a change.
  func replace(with routes: [AgencyRoute]) {
    self.modes.replace(with: Self.modes(routes))
    self.routes.withLock { $0 = routes }
    self.changes.bump()
  }

  /// Returns once routes newer than `version` are in force, or when the task is cancelled.
  func waitForChange(from version: Int) async { await self.changes.wait(from: version) }

  private static func modes(_ routes: [AgencyRoute]) -> HandoffRoutes {
    HandoffRoutes(Dictionary(routes.map { ($0.agency, $0.mode) }) { $1 })
  }
}
