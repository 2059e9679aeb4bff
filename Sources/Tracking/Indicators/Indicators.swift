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
  /// Dossier items recorded (scanned or reused), each item once.
  public var papers: Int
  /// Of those, items reusing a paper digitized for an earlier dossier of the same applicant.
  public var reusedPapers: Int
  /// Dossiers with at least one reused paper.
  public var dossiersWithReuse: Int

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
    complaints: Int,
    papers: Int = 0,
    reusedPapers: Int = 0,
    dossiersWithReuse: Int = 0
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
    self.papers = papers
    self.reusedPapers = reusedPapers
    self.dossiersWithReuse = dossiersWithReuse
  }

  /// Digitized dossiers per 100 dossiers (0 when none was received).
  public var digitizedPercent: Double { Self.percent(self.digitized, of: self.dossiers) }
  /// Electronic transfers per 100 transfers (0 when none was transferred).
  public var electronicPercent: Double {
    Self.percent(self.electronicTransfers, of: self.electronicTransfers + self.paperOnlyTransfers)
  }
  /// Reused papers per 100 papers recorded (0 when none was).
  public var reusedPercent: Double { Self.percent(self.reusedPapers, of: self.papers) }
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
public protocol IndicatorStore: ScoreStore {
  /// Counts per group for the shipments registered in `[from, before)`, by key.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func indicators(
    registeredFrom from: Timestamp,
    before: Timestamp,
    grouping: IndicatorGrouping
  ) async throws -> [IndicatorCounts]

  /// Per staff member and post office, the dossiers collected and results delivered that
  /// occurred in `[from, before)`, by actor.
  /// - Throws: ``TrackingError`` `.storageFailure`.
  func staffTallies(occurredFrom from: Timestamp, before: Timestamp) async throws -> [StaffTally]
}

/// What one staff member recorded at one post office in a period.
public struct StaffTally: Hashable, Sendable {
  /// Who (the events' actor, a SPIFFE ID).
  public var actor: String
  /// Where (the events' location).
  public var postOffice: String
  /// Dossiers taken in after count and check (`COLLECTED`).
  public var dossiersReceived: Int
  /// Results handed to citizens (`DELIVERED`).
  public var resultsDelivered: Int

  /// Creates a tally.
  public init(actor: String, postOffice: String, dossiersReceived: Int, resultsDelivered: Int) {
    self.actor = actor
    self.postOffice = postOffice
    self.dossiersReceived = dossiersReceived
    self.resultsDelivered = resultsDelivered
  }
}

/// The plan's yearly intake target per counter staff member by the kind of area the post office
/// is in (Thái Nguyên 103/KH-UBND item III.7: 1,600 dossiers, 1,200 in rural and 800 in remote
/// areas).
public enum AreaClass: String, Hashable, Sendable, CaseIterable {
  /// A ward (phường).
  case urban = "URBAN"
  /// A commune (xã) or special zone.
  case rural = "RURAL"
  /// A remote commune: not derivable from the administrative map, so configured (the SLA
  /// policy's `remoteCommunes`, with the decision that lists them).
  case remote = "REMOTE"

  /// Dossiers per staff member per year.
  public var yearlyTarget: Int {
    switch self {
    case .urban: 1600
    case .rural: 1200
    case .remote: 800
    }
  }

  /// The target's source.
  public static let source = "Thái Nguyên 103/KH-UBND item III.7"

  /// The class of a post office's commune: remote when configured so, else by its kind on the
  /// map in force (urban when the office or its commune is not known: the strictest target).
  public static func of(
    postOffice: String,
    places: [String: Place],
    map: AdministrativeMap?,
    remote: RemoteCommunes = RemoteCommunes()
  ) -> AreaClass {
    guard let commune = places[postOffice]?.commune else { return .urban }
    if remote.communes.contains(commune) { return .remote }
    guard let unit = map?.unit(commune) else { return .urban }
    return unit.level == .ward ? .urban : .rural
  }
}

/// A staff member's intake against the plan's target, annualised over the period.
public struct StaffProductivity: Hashable, Sendable {
  /// What was counted.
  public var tally: StaffTally
  /// The office's area class.
  public var areaClass: AreaClass
  /// Dossiers received × 365 / the period's days.
  public var annualisedDossiers: Double

  /// Annualises tallies over a period of `days` days.
  public static func of(
    _ tallies: [StaffTally],
    days: Int,
    places: [String: Place],
    map: AdministrativeMap?,
    remote: RemoteCommunes = RemoteCommunes()
  ) -> [StaffProductivity] {
    tallies.map { tally in
      StaffProductivity(
        tally: tally,
        areaClass: .of(postOffice: tally.postOffice, places: places, map: map, remote: remote),
        annualisedDossiers: Double(tally.dossiersReceived) * 365 / Double(max(1, days))
      )
    }
  }

  /// Whether the annualised intake reaches the area's target.
  public var meetsTarget: Bool { self.annualisedDossiers >= Double(self.areaClass.yearlyTarget) }
}
