/// How the plan's indicators are grouped.
public enum IndicatorGrouping: String, Hashable, Sendable, CaseIterable {
  /// By the shipment's destination agency.
  case agency = "AGENCY"
  /// By the post office that took the dossier in.
  case postOffice = "POST_OFFICE"
}

/// One group's counts for the shipments registered in a period, as the store aggregates them
/// (Thái Nguyên plan 103/KH-UBND: 100% of dossiers digitized, ≥ 80% of transfers electronic,
/// satisfaction ≥ 95%).
public struct IndicatorCounts: Hashable, Sendable {
  /// The agency or post office code.
  public var key: String
  /// Shipments registered in the period.
  public var received: Int
  /// Of those, shipments that carry a dossier (not `RESULT_ONLY`): what digitization counts.
  public var dossiers: Int
  /// Of those, shipments whose every checklist item was scanned (a `DIGITIZED` event).
  public var digitized: Int
  /// Of those, shipments handed to the agency electronically (a handoff, push or pull).
  public var electronicTransfers: Int
  /// Of those, shipments handed over on paper only (a `HANDED_TO_AGENCY` event, no handoff).
  public var paperOnlyTransfers: Int
  /// Citizens' ratings of those shipments.
  public var ratings: Int
  /// Ratings with an overall mark of 4 or 5.
  public var satisfied: Int
  /// The sum of the overall marks.
  public var overallSum: Int
  /// Ratings that opened a complaint.
  public var complaints: Int

  /// Creates counts.
  public init(
    key: String,
    received: Int,
    dossiers: Int,
    digitized: Int,
    electronicTransfers: Int,
    paperOnlyTransfers: Int,
    ratings: Int,
    satisfied: Int,
    overallSum: Int,
    complaints: Int
  ) {
    self.key = key
    self.received = received
    self.dossiers = dossiers
    self.digitized = digitized
    self.electronicTransfers = electronicTransfers
    self.paperOnlyTransfers = paperOnlyTransfers
    self.ratings = ratings
    self.satisfied = satisfied
    self.overallSum = overallSum
    self.complaints = complaints
  }

  /// Digitized dossiers per 100 dossiers (0 when none was received).
  public var digitizedPercent: Double { Self.percent(self.digitized, of: self.dossiers) }
  /// Electronic transfers per 100 transfers (0 when none was transferred).
  public var electronicPercent: Double {
    Self.percent(self.electronicTransfers, of: self.electronicTransfers + self.paperOnlyTransfers)
  }
  /// Satisfied ratings per 100 ratings (0 when none was given).
  public var satisfactionPercent: Double { Self.percent(self.satisfied, of: self.ratings) }
  /// The mean overall mark (0 when none was given).
  public var meanOverall: Double {
    self.ratings == 0 ? 0 : Double(self.overallSum) / Double(self.ratings)
  }

  static func percent(_ part: Int, of whole: Int) -> Double {
    whole == 0 ? 0 : 100 * Double(part) / Double(whole)
  }
}

/// Aggregates the indicators in the store (indexed by registration time), never by loading the
/// period into memory.
public protocol IndicatorStore: Sendable {
  /// Counts per group for the shipments registered in `[from, before)`, by key.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func indicators(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts]
}
