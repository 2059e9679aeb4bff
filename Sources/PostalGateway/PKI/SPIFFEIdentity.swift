import Tracking

/// The SPIFFE IDs PostalGateway gives its partners, and how a caller's ID maps to an ``Actor``:
///
/// - `spiffe://<trust-domain>/staff/<post-office-code>/<staff-id>` for postal staff;
/// - `spiffe://<trust-domain>/agency/<agency-code>` for an agency's system.
enum SPIFFEIdentity {
  /// The ID of a staff member.
  static func staff(trustDomain: String, postOffice: PostOfficeCode, staffID: String) -> String {
    "spiffe://\(trustDomain)/staff/\(postOffice.rawValue)/\(staffID)"
  }

  /// The ID of an agency's system.
  static func agency(trustDomain: String, agency: AgencyCode) -> String {
    "spiffe://\(trustDomain)/agency/\(agency.rawValue)"
  }

  /// Whether a staff id is usable in a SPIFFE path: 1–64 of A–Z, a–z, 0–9, `-`, `_`, `.`.
  /// `spiffe://<trust domain>/operator/<id>`.
  static func `operator`(trustDomain: String, id: String) -> String {
    "spiffe://\(trustDomain)/operator/\(id)"
  }

  /// `spiffe://<trust domain>/oversight/<id>`.
  static func oversight(trustDomain: String, id: String) -> String {
    "spiffe://\(trustDomain)/oversight/\(id)"
  }

  static func isValidStaffID(_ id: String) -> Bool {
    !id.isEmpty && id.utf8.count <= 64
      && id.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"),
          UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
          UInt8(ascii: "."):
          true
        default:
          false
        }
      } && id != "." && id != ".."
  }

  /// Whether a trust domain is usable: lower-case letters, digits, `-`, `.` and `_`.
  static func isValidTrustDomain(_ domain: String) -> Bool {
    !domain.isEmpty && domain.utf8.count <= 255
      && domain.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "0") ... UInt8(ascii: "9"),
          UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
          true
        default:
          false
        }
      }
  }

  /// The actor a SPIFFE ID names, if it is one of ours in the given trust domain.
  /// - Parameters:
  ///   - uri: A URI SAN from a verified client certificate.
  ///   - trustDomain: The trust domain this gateway accepts.
  static func actor(from uri: String, trustDomain: String) -> Actor? {
    let prefix = "spiffe://\(trustDomain)/"
    guard uri.hasPrefix(prefix) else { return nil }
    let path = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
    switch path.count {
    case 3 where path[0] == "staff":
      guard let office = try? PostOfficeCode(validating: String(path[1])),
        Self.isValidStaffID(String(path[2]))
      else { return nil }
      return .staff(id: uri, postOffice: office)
    case 2 where path[0] == "agency":
      guard let agency = try? AgencyCode(validating: String(path[1])) else { return nil }
      return .agency(id: uri, agency: agency)
    case 2 where path[0] == "operator":
      guard Self.isValidStaffID(String(path[1])) else { return nil }
      return .operator(id: uri)
    case 2 where path[0] == "oversight":
      guard Self.isValidStaffID(String(path[1])) else { return nil }
      return .oversight(id: uri)
    default:
      return nil
    }
  }
}
