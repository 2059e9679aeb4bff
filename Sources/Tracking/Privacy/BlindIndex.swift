/// Keyed digests of the values staff look applicants up by, so that the store answers an
/// equality search without being given the value: `HMAC-SHA-256` under a key of its own
/// (derived from the service secret with a context no other hash uses) of the normalised value.
public struct BlindIndex: Sendable {
  private let hasher: PersonalDataHasher

  /// An index keyed from the service secret.
  /// - Parameter secret: At least 32 random bytes.
  public init(secret: [UInt8]) {
    self.hasher = PersonalDataHasher(secret: secret, context: "postalgateway blind index v1")
  }

  /// The digest of an identity number (a citizen id or a passport number), normalised: upper
  /// case, without spaces, dots or dashes.
  public func identityNumber(_ text: String) -> String {
    let normalised = text.uppercased().filter { !" .-".contains($0) }
    return self.hasher.hash(normalised, purpose: "identity-number")
  }

  /// The digest of a mobile number, in E.164.
  public func phone(_ number: MobileNumber) -> String {
    self.hasher.hash(number.e164, purpose: "phone")
  }

  /// Every digest a shipment is found by: the applicant's identity number, the authorised
  /// person's, and the phone.
  public func digests(of applicant: Applicant) -> [String] {
    var digests = [self.identityNumber(applicant.identity.number), self.phone(applicant.phone)]
    if let person = applicant.authorizedPerson {
      digests.append(self.identityNumber(person.identity.number))
    }
    return Array(Set(digests)).sorted()
  }
}
