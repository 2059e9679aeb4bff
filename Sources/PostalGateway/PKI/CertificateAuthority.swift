import Crypto
import Foundation
import SwiftASN1
import Tracking
import X509

/// A certificate and its private key, in PEM.
struct PEMCredential: Sendable, Hashable {
  /// The certificate.
  var certificatePEM: String
  /// The PKCS #8 private key.
  var privateKeyPEM: String
}

/// A small certificate authority for development and tests: P-256 keys, a self-signed root,
/// server certificates for the listeners and client certificates carrying SPIFFE IDs.
///
/// Production deployments bring their own PKI; this one exists so that `serve` works on a fresh
/// machine and tests never need committed private keys.
struct CertificateAuthority: Sendable {
  /// What a certificate is for.
  enum Profile: Sendable, Hashable {
    /// A TLS server reachable under these DNS names and IP addresses.
    case server(dnsNames: [String], ipAddresses: [String])
    /// A TLS client whose identity is a SPIFFE ID (URI SAN).
    case client(spiffeID: String)
  }

  let certificate: Certificate
  let privateKey: P256.Signing.PrivateKey

  /// The root certificate in PEM.
  var certificatePEM: String {
    get throws { try self.certificate.serializeAsPEM().pemString }
  }

  /// The root and its key in PEM.
  var credential: PEMCredential {
    get throws {
      PEMCredential(
        certificatePEM: try self.certificatePEM,
        privateKeyPEM: self.privateKey.pemRepresentation
      )
    }
  }

  /// Creates a new self-signed root, valid for ten years.
  /// - Parameter commonName: The root's name.
  static func create(commonName: String, now: Date = Date()) throws -> CertificateAuthority {
    let key = P256.Signing.PrivateKey()
    let name = try DistinguishedName {
      OrganizationName("PostalGateway")
      CommonName(commonName)
    }
    let certificate = try Certificate(
      version: .v3,
      serialNumber: Certificate.SerialNumber(),
      publicKey: Certificate.PublicKey(key.publicKey),
      notValidBefore: now.addingTimeInterval(-3600),
      notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
      issuer: name,
      subject: name,
      signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
        Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
      },
      issuerPrivateKey: Certificate.PrivateKey(key)
    )
    return CertificateAuthority(certificate: certificate, privateKey: key)
  }

  /// Loads a root from PEM.
  init(credential: PEMCredential) throws {
    self.certificate = try Certificate(pemEncoded: credential.certificatePEM)
    self.privateKey = try P256.Signing.PrivateKey(pemRepresentation: credential.privateKeyPEM)
  }

  private init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
    self.certificate = certificate
    self.privateKey = privateKey
  }

  /// Issues a certificate.
  /// - Parameters:
  ///   - profile: Server or client, and the names it carries.
  ///   - commonName: The subject's common name.
  ///   - validity: How long it is valid.
  /// - Returns: The certificate and a new private key, in PEM.
  func issue(
    _ profile: Profile,
    commonName: String,
    validity: TimeInterval = 365 * 86_400,
    now: Date = Date()
  ) throws -> PEMCredential {
    let key = P256.Signing.PrivateKey()
    let publicKey = Certificate.PublicKey(key.publicKey)
    let subject = try DistinguishedName {
      OrganizationName("PostalGateway")
      CommonName(commonName)
    }
    let extensions: Certificate.Extensions
    switch profile {
    case .server(let dnsNames, let ipAddresses):
      let names =
        dnsNames.map { GeneralName.dnsName($0) }
        + (try ipAddresses.map {
          GeneralName.ipAddress(ASN1OctetString(contentBytes: try Self.ipBytes($0)[...]))
        })
      extensions = try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
        try ExtendedKeyUsage([.serverAuth])
        SubjectAlternativeNames(names)
        SubjectKeyIdentifier(hash: publicKey)
        AuthorityKeyIdentifier(keyIdentifier: try self.subjectKeyIdentifier)
      }
    case .client(let spiffeID):
      extensions = try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
        try ExtendedKeyUsage([.clientAuth])
        SubjectAlternativeNames([.uniformResourceIdentifier(spiffeID)])
        SubjectKeyIdentifier(hash: publicKey)
        AuthorityKeyIdentifier(keyIdentifier: try self.subjectKeyIdentifier)
      }
    }
    let certificate = try Certificate(
      version: .v3,
      serialNumber: Certificate.SerialNumber(),
      publicKey: publicKey,
      notValidBefore: now.addingTimeInterval(-3600),
      notValidAfter: now.addingTimeInterval(validity),
      issuer: self.certificate.subject,
      subject: subject,
      signatureAlgorithm: .ecdsaWithSHA256,
      extensions: extensions,
      issuerPrivateKey: Certificate.PrivateKey(self.privateKey)
    )
    return PEMCredential(
      certificatePEM: try certificate.serializeAsPEM().pemString,
      privateKeyPEM: key.pemRepresentation
    )
  }

  private var subjectKeyIdentifier: ArraySlice<UInt8> {
    get throws {
      guard let identifier = try self.certificate.extensions.subjectKeyIdentifier else {
        return SubjectKeyIdentifier(hash: self.certificate.publicKey).keyIdentifier
      }
      return identifier.keyIdentifier
    }
  }

  private static func ipBytes(_ address: String) throws -> [UInt8] {
    if let v4 = IPv4(address) { return v4 }
    if address == "::1" { return [UInt8](repeating: 0, count: 15) + [1] }
    throw PKIError("unsupported IP address for a certificate: \(address) (IPv4 or ::1)")
  }

  private static func IPv4(_ address: String) -> [UInt8]? {
    let parts = address.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    let bytes = parts.compactMap { UInt8($0) }
    return bytes.count == 4 ? bytes : nil
  }
}

/// A PKI operation that cannot be done.
struct PKIError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
