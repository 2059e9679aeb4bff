import GRPCCore
import GRPCNIOTransportHTTP2
import Tracking
import X509

/// Who is calling, as far as authorization is concerned.
enum CallerIdentity: Hashable, Sendable {
  /// A partner identified by its client certificate.
  case partner(Actor)
  /// Anyone on the public listener: a citizen.
  case citizen

  /// The role the authorization table is keyed by.
  var role: Role {
    switch self {
    case .partner(let actor):
      switch actor.role {
      case .staff: .staff
      case .agency: .agency
      case .operator: .operator
      case .oversight: .oversight
      }
    case .citizen: .citizen
    }
  }
}

/// The roles of the authorization table.
enum Role: String, Hashable, Sendable, CaseIterable {
  /// Postal staff (partner listener).
  case staff
  /// An agency system (partner listener).
  case agency
  /// A gateway operator (partner listener).
  case `operator`
  /// The provincial oversight office (partner listener).
  case oversight
  /// A citizen (public listener).
  case citizen

}

/// Finds the caller's identity for an RPC. The partner listener reads the verified client
/// certificate; the public listener treats everyone as a citizen; tests over the in-process
/// transport (which has no certificates) inject their own.
protocol IdentityResolver: Sendable {
  /// The caller's identity, or `nil` when it cannot be established.
  func identity(of context: ServerContext) -> CallerIdentity?
}

extension IdentityResolver {
  /// The partner the call comes from.
  /// - Throws: ``TrackingError`` `.unauthenticated` without a partner certificate.
  func partnerActor(of context: ServerContext) throws -> Actor {
    guard case .partner(let actor) = self.identity(of: context) else {
      throw TrackingError(code: .unauthenticated, message: "a partner certificate is required")
    }
    return actor
  }
}

/// Reads the SPIFFE URI SAN from the client certificate the TLS handshake verified.
struct CertificateIdentityResolver: IdentityResolver {
  /// The trust domain whose IDs this gateway accepts.
  var trustDomain: String

  func identity(of context: ServerContext) -> CallerIdentity? {
    guard let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
      let certificate = posix.peerCertificate,
      let actor = Self.actor(of: certificate, trustDomain: self.trustDomain)
    else { return nil }
    return .partner(actor)
  }

  /// The partner a verified client certificate names by its one SPIFFE URI SAN, or `nil` (a
  /// certificate naming two identities names none).
  static func actor(of certificate: Certificate, trustDomain: String) -> Actor? {
    guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
    var actors: [Actor] = []
    for name in names {
      if case .uniformResourceIdentifier(let uri) = name,
        let actor = SPIFFEIdentity.actor(from: uri, trustDomain: trustDomain)
      {
        actors.append(actor)
      }
    }
    guard actors.count == 1 else { return nil }
    return actors.first
  }
}

/// The public listener's resolver: every caller is a citizen.
struct CitizenIdentityResolver: IdentityResolver {
  func identity(of context: ServerContext) -> CallerIdentity? { .citizen }
}
