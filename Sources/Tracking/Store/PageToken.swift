/// Turns a listing cursor into an opaque page token bound to the filter it was made with, and
/// back.
///
/// The token is `v1.<created-at µs>.<tracking number>.<filter digest>`; a token presented with
/// other filters, or altered, is refused.
public enum PageToken {
  /// Encodes a cursor.
  /// - Parameters:
  ///   - cursor: Where the next page starts.
  ///   - filter: The filter of the listing.
  public static func encode(_ cursor: ShipmentQuery.Cursor, filter: ShipmentQuery.Filter) -> String
  {
    "v1.\(cursor.createdAt.microseconds).\(cursor.trackingNumber.rawValue).\(Self.digest(filter))"
  }

  /// Decodes a token.
  /// - Parameters:
  ///   - token: A token from a previous page.
  ///   - filter: The filter of this listing.
  /// - Throws: ``InvalidValue`` when the token is malformed or was made for other filters.
  public static func decode(
    _ token: String,
    filter: ShipmentQuery.Filter
  ) throws -> ShipmentQuery.Cursor {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0] == "v1", let micros = Int64(parts[1]),
      let number = try? TrackingNumber(validating: String(parts[2]))
    else {
      throw InvalidValue("is not a token this service issued")
    }
    guard parts[3] == Self.digest(filter) else {
      throw InvalidValue("was issued for different filters")
    }
    return ShipmentQuery.Cursor(createdAt: Timestamp(microseconds: micros), trackingNumber: number)
  }

  /// FNV-1a over a canonical rendering of the filter: enough to notice a changed filter.
  private static func digest(_ filter: ShipmentQuery.Filter) -> String {
    let canonical = [
      filter.state?.rawValue ?? "",
      filter.postOffice?.rawValue ?? "",
      filter.createdAtOrAfter.map { String($0.microseconds) } ?? "",
      filter.createdBefore.map { String($0.microseconds) } ?? "",
      filter.person ?? "",
    ].joined(separator: "|")
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in canonical.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    return String(hash, radix: 16)
  }
}
