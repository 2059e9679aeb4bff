import Proto
import SwiftProtobuf
import Tracking

// The one place where wire messages become domain values and back. Every field that enters is
// validated here, and a malformed one is reported by its path in the request.

// MARK: - Requests → domain

extension Postalgateway_V1_Shipment {
  /// The staff's view of a shipment.
  init(_ shipment: Shipment) {
    self.init()
    self.trackingNumber = shipment.trackingNumber.rawValue
    self.serviceType = shipment.serviceType.proto
    self.state = shipment.state.proto
    self.notificationChannel = shipment.notificationChannel.proto
    if let erased = shipment.personalDataErasedAt {
      self.personalDataErasedAt = erased.proto
    } else {
      self.applicant = Postalgateway_V1_Applicant(shipment.applicant)
    }
    self.procedureCode = shipment.procedure.rawValue
    self.destinationAgencyCode = shipment.destinationAgency.rawValue
    self.pickup = .with {
      switch shipment.pickup {
      case .counter(let office):
        $0.counter = .with { $0.postOfficeCode = office.rawValue }
      case .home(let address, let window, let office):
        $0.home = .with {
          $0.address = Postalgateway_V1_Address(address)
          $0.window = .with {
            $0.start = window.start.proto
            $0.end = window.end.proto
          }
          $0.postOfficeCode = office.rawValue
        }
      }
    }
    self.originPostOfficeCode = shipment.originPostOffice.rawValue
    self.createdAt = shipment.createdAt.proto
    self.updatedAt = shipment.updatedAt.proto
    self.version = Int64(shipment.version)
    let voided = shipment.voidedSequences
    self.events = shipment.events.map {
      var event = Postalgateway_V1_ShipmentEvent($0)
      event.voided = voided.contains($0.sequence)
      return event
    }
    self.normalizedStatus = shipment.state.normalized.proto
    self.currentSealID = shipment.currentSealID ?? ""
    self.unscannedDocumentIds = shipment.events.isEmpty ? [] : shipment.unscannedDocumentIDs
  }
}

extension Postalgateway_V1_Address {
  init(_ address: Address) {
    self.init()
    self.provinceCode = address.province.rawValue
    self.communeCode = address.commune.rawValue
    self.detail = address.detail.rawValue
  }
}

extension Postalgateway_V1_Applicant {
  /// The applicant in clear, for postal staff and the competent agency only.
  init(_ applicant: Applicant) {
    self.init()
    self.fullName = applicant.name.rawValue
    switch applicant.identity {
    case .citizen(let id): self.citizenID = id.rawValue
    case .foreigner(let passport, let nationality):
      self.passport = .init(passport, nationality)
    }
    self.phone = applicant.phone.e164
    self.address = Postalgateway_V1_Address(applicant.address)
    if let organisation = applicant.organisation {
      self.organisation = .with {
        $0.enterpriseCode = organisation.code.rawValue
        $0.name = organisation.name.rawValue
      }
    }
    if let person = applicant.authorizedPerson {
      self.authorizedPerson = .with {
        $0.fullName = person.name.rawValue
        switch person.identity {
        case .citizen(let id): $0.citizenID = id.rawValue
        case .foreigner(let passport, let nationality):
          $0.passport = .init(passport, nationality)
        }
      }
    }
  }
}

extension Postalgateway_V1_Passport {
  init(_ number: PassportNumber, _ nationality: Nationality) {
    self.init()
    self.number = number.rawValue
    self.nationality = nationality.rawValue
  }
}

extension Postalgateway_V1_ShipmentEvent {
  init(_ event: ShipmentEvent) {
    self.init()
    self.sequence = Int64(event.sequence)
    self.type = event.kind.proto
    self.fromState = event.fromState?.proto ?? .unspecified
    self.toState = event.toState.proto
    self.occurredAt = event.occurredAt.proto
    self.recordedAt = event.recordedAt.proto
    self.actor = event.actor
    self.location = event.location.rawValue
    self.note = event.note ?? ""
    self.upuEventCode = event.kind.upuEventCode ?? ""
    self.custodyLeafIndex = event.leafIndex ?? 0
    if let handover = event.handover { self.handover = Postalgateway_V1_HandoverRecord(handover) }
    switch event.details {
    case nil:
      break
    case .collection(let collection):
      self.collection = .with {
        $0.catalogVersion = collection.catalogVersion
        $0.items = collection.items.map(Postalgateway_V1_HandedOverItem.init)
        $0.sealID = collection.sealID
        $0.feeCollectedVnd = collection.feeCollectedVND
        $0.postageVnd = collection.postageVND
        $0.receiptID = collection.receiptID
        $0.copies = Int32(clamping: collection.copies)
        $0.feeLines = collection.feeLines.map(Postalgateway_V1_FeeLine.init)
        if let line = collection.postageLine { $0.postageLine = .init(line) }
      }
    case .guidance(let guidance):
      self.guidance = .with {
        $0.catalogVersion = guidance.catalogVersion
        $0.items = guidance.items.map(Postalgateway_V1_HandedOverItem.init)
        $0.missing = guidance.missing.map(Postalgateway_V1_MissingItem.init)
      }
    case .scan(let scan):
      self.scan = Postalgateway_V1_ScanDetails(scan)
    case .resultCollection(let result):
      self.result = Postalgateway_V1_ResultDetails(result)
    case .delivery(.failed(let reason)):
      self.delivery = .with { $0.failureReason = reason.proto }
    case .delivery(.delivered(let proof)):
      self.delivery = .with {
        $0.delivered = .with {
          $0.recipientName = proof.recipientName.rawValue
          $0.identityType = proof.identityType.proto
          $0.identityNumberMasked = proof.identityNumberMasked
          $0.authorizationReference = proof.authorizationReference ?? ""
          $0.signatureSha256 = proof.signatureSHA256
          $0.photoSha256 = proof.photoSHA256 ?? ""
          $0.papersRecalled = proof.papersRecalled
          $0.feesCollectedVnd = proof.feesCollectedVND
        }
      }
    case .damage(let damage):
      self.damage = .with {
        $0.inventory = damage.inventory
        $0.newSealID = damage.newSealID
      }
    case .correction(let correction):
      self.correction = .with {
        $0.voidedSequence = Int64(correction.voidedSequence)
        $0.reason = correction.reason
      }
    case .handoffQueued(let ticket):
      self.handoffQueued = .with {
        $0.handoffID = ticket.handoffID
        $0.agencyCode = ticket.agency.rawValue
        $0.mode = ticket.mode.proto
      }
    case .agencyDecision(let decision):
      self.agencyDecision = Postalgateway_V1_AgencyDecisionDetails(decision)
    case .supplement(let request):
      self.supplement = .with {
        $0.missingItems = request.missingItems
        $0.reason = request.reason
        $0.items = request.items.map(Postalgateway_V1_SupplementItem.init)
      }
    case .appointment(let date):
      self.appointment = .with { $0.date = date.description }
    case .personalDataCorrection(let correction):
      // The field names and the reason, never the values (the shipment's applicant has them).
      self.personalDataCorrection = .with {
        $0.fields = correction.fields
        $0.reason = correction.reason
      }
    case .processingExtension(let moved):
      self.processingExtension = .with {
        $0.previousDueDate = moved.previousDueDate.description
        $0.newDueDate = moved.newDueDate.description
        $0.reason = moved.reason
        $0.apology = moved.apology
      }
    case .resultNotice(let notice):
      self.resultNotice = .with {
        $0.documents = notice.documents
        $0.originalsToReturn = notice.originalsToReturn
        $0.papersToRecall = notice.papersToRecall
        $0.feeToCollectVnd = notice.feeToCollectVND
        $0.collectAt = notice.collectAt
      }
    }
  }
}

extension Postalgateway_V1_TrackedShipment {
  /// The citizen's view: masked name and phone, no citizen id, address, notes or actors.
  /// `minutesPerDay` turns the legs' working time into working days.
  init(
    _ tracked: TrackedShipment,
    minutesPerDay: Int,
    wording: CitizenWording = CitizenWording(.vietnamese)
  ) {
    self.init()
    self.language = wording.language.rawValue
    self.statusText = wording.state(tracked.state)
    self.refusalReason = tracked.refusalReason ?? ""
    self.hopLines = tracked.hops.map(wording.hopLine)
    if let agency = tracked.hops.last(where: { $0.hop == .agencyProcessing }) {
      self.notes.append(wording.deadline(legal: agency.due, appointment: tracked.appointmentDate))
    }
    if let reason = tracked.refusalReason { self.notes.append(wording.refusal(reason)) }
    self.hops = tracked.hops.map {
      Postalgateway_V1_HopTimeliness($0, minutesPerDay: minutesPerDay)
    }
    self.trackingNumber = tracked.trackingNumber.rawValue
    self.serviceType = tracked.serviceType.proto
    self.state = tracked.state.proto
    self.notificationChannel = tracked.notificationChannel.proto
    self.applicantNameMasked = tracked.maskedName
    self.phoneMasked = tracked.maskedPhone
    self.procedureCode = tracked.procedure.rawValue
    self.destinationAgencyCode = tracked.destinationAgency.rawValue
    self.createdAt = tracked.createdAt.proto
    self.updatedAt = tracked.updatedAt.proto
    self.normalizedStatus = tracked.state.normalized.proto
    if let deadline = tracked.agencyDeadline {
      self.agencyDeadline = .with {
        $0.dueDate = deadline.due.description
        $0.workingDays = Int32(clamping: deadline.workingDays)
        $0.countedFrom = deadline.start.description
        $0.calendarVersions = deadline.calendarVersions
        $0.provisional = deadline.provisional
        $0.extendedTo = deadline.extendedTo?.description ?? ""
      }
    }
    self.appointmentDate = tracked.appointmentDate?.description ?? ""
    self.supplementItems = tracked.supplementItems.map(Postalgateway_V1_SupplementItem.init)
    self.timeline = tracked.timeline.map { entry in
      .with {
        $0.type = entry.kind.proto
        $0.state = entry.state.proto
        $0.occurredAt = entry.occurredAt.proto
        $0.location = entry.location.rawValue
        $0.normalizedStatus = entry.state.normalized.proto
        $0.upuEventCode = entry.kind.upuEventCode ?? ""
        $0.text = wording.event(entry.kind)
      }
    }
  }
}

extension Postalgateway_V1_SupplementItem {
  init(_ item: SupplementItem) {
    self = .with {
      $0.document = item.document
      $0.reason = item.reason
    }
  }
}

extension Postalgateway_V1_FeeLine {
  init(_ line: FeeLine) {
    self.init()
    self.description_p = line.description
    self.quantity = Int32(clamping: line.quantity)
    self.unitVnd = line.unitVND
    self.amountVnd = line.amountVND
  }
}
