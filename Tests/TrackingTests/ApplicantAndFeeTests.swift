import Testing
import Tracking

@Suite("Applicants who are not adult citizens with a CCCD")
struct ApplicantIdentityTests {
  @Test(
    "real enterprise codes pass the check digit, branches too",
    arguments: ["0102595740", "0100109106", "0300588569", "0100109106-001"]
  )
  func enterpriseCodes(_ code: String) throws {
    #expect(try EnterpriseCode(validating: code).rawValue == code)
  }

  @Test(
    "a wrong check digit, another shape or branch 000 is refused",
    arguments: [
      "0102595741", "010259574", "01025957400", "0102595740-000", "0102595740-01", "01O2595740",
    ]
  )
  func badEnterpriseCodes(_ code: String) {
    #expect(throws: InvalidValue.self) { try EnterpriseCode(validating: code) }
  }

  @Test("a nationality is an ISO 3166-1 code other than VN")
  func nationalities() throws {
    #expect(try Nationality(validating: "kr").rawValue == "KR")
    #expect(try Nationality(validating: "FR").rawValue == "FR")
    #expect(Nationality.codes.count == 249)
    for code in ["VN", "XX", "UK", "K", "KOR", ""] {
      #expect(throws: InvalidValue.self, "\(code)") { try Nationality(validating: code) }
    }
  }

  @Test("a passport number is 6–9 letters and digits, masked to its ends")
  func passports() throws {
    let passport = try PassportNumber(validating: "m12345678")
    #expect(passport.rawValue == "M12345678")
    #expect(passport.masked == "M1*****78")
    for number in ["12345", "1234567890", "M1234-567", "М1234567"] {
      #expect(throws: InvalidValue.self, "\(number)") { try PassportNumber(validating: number) }
    }
  }

  @Test("a 9-digit CMND is refused with the law that ended it, never echoing the number")
  func oldIdentityCard() {
    do {
      _ = try CitizenID(validating: "123456789", currentYear: 2026)
      Issue.record("a CMND was accepted")
    } catch let error as InvalidValue {
      #expect(error.reason.contains("46"))
      #expect(!error.reason.contains("123456789"))
    } catch {
      Issue.record("\(error)")
    }
  }
}

@Suite("Checklists with optional papers and alternatives")
struct ChecklistTests {
  static let birth = Procedure(
    code: try! ProcedureCode(validating: "1.001193"),
    name: "Đăng ký khai sinh",
    competence: [.testProvince],
    documents: [
      .init(id: "TO_KHAI", name: "Tờ khai", form: .original, quantity: 1),
      .init(
        id: "CHUNG_SINH",
        name: "Giấy chứng sinh",
        form: .original,
        quantity: 1,
        requirement: .oneOf("SINH")
      ),
      .init(
        id: "LAM_CHUNG",
        name: "Văn bản làm chứng",
        form: .original,
        quantity: 1,
        requirement: .oneOf("SINH")
      ),
      .init(
        id: "KET_HON",
        name: "Giấy chứng nhận kết hôn",
        form: .copy,
        quantity: 1,
        requirement: .optional
      ),
    ],
    processingWorkingDays: 0,
    feeVND: 0,
    postalEligible: true,
    inPersonOnly: false,
    sameDay: true
  )

  @Test("any one paper of a group completes it, and an optional paper is never missing")
  func alternativesAndOptional() {
    let form = HandedOverItem(documentID: "TO_KHAI", form: .original, pages: 1)
    let witness = HandedOverItem(documentID: "LAM_CHUNG", form: .original, pages: 1)
    #expect(DossierCheck.missingItems([form, witness], for: Self.birth).isEmpty)
  }

  @Test("a group with none of its papers is missing once, listing its alternatives")
  func missingGroup() {
    let form = HandedOverItem(documentID: "TO_KHAI", form: .original, pages: 1)
    let copyOfWitness = HandedOverItem(documentID: "LAM_CHUNG", form: .copy, pages: 1)
    let missing = DossierCheck.missingItems([form, copyOfWitness], for: Self.birth)
    #expect(missing.map(\.documentID) == ["SINH"])
    #expect(missing.first?.alternatives == ["CHUNG_SINH", "LAM_CHUNG"])
  }

  @Test("an authorised person's dossier needs the power of attorney")
  func powerOfAttorney() {
    let items = [
      HandedOverItem(documentID: "TO_KHAI", form: .original, pages: 1),
      HandedOverItem(documentID: "CHUNG_SINH", form: .original, pages: 1),
    ]
    #expect(DossierCheck.missingItems(items, for: Self.birth, authorizedPerson: false).isEmpty)
    let missing = DossierCheck.missingItems(items, for: Self.birth, authorizedPerson: true)
    #expect(missing.map(\.documentID) == [Applicant.authorizationDocumentID])
    let withAuthorization =
      items + [HandedOverItem(documentID: Applicant.authorizationDocumentID, form: .copy, pages: 1)]
    #expect(
      DossierCheck.missingItems(withAuthorization, for: Self.birth, authorizedPerson: true).isEmpty
    )
  }

  @Test("a group of one, or one named like a document, makes the catalog invalid")
  func badGroups() {
    var lonely = Self.birth
    lonely.documents.removeAll { $0.id == "LAM_CHUNG" }
    #expect(throws: InvalidValue.self) {
      try ProcedureCatalog(
        version: "t",
        contentHash: "",
        agencies: [.testProvince],
        procedures: [lonely]
      )
    }
    var clash = Self.birth
    clash.documents[1].requirement = .oneOf("TO_KHAI")
    clash.documents[2].requirement = .oneOf("TO_KHAI")
    #expect(throws: InvalidValue.self) {
      try ProcedureCatalog(
        version: "t",
        contentHash: "",
        agencies: [.testProvince],
        procedures: [clash]
      )
    }
  }
}

@Suite("Fees per dossier, per copy and per page")
struct FeeQuoteTests {
  static let certifiedCopy = FeeRule(
    basis: .perPage(
      documentID: "BAN_SAO",
      firstPages: 2,
      firstVND: 2000,
      laterVND: 1000,
      capVND: 200_000
    ),
    description: "Chứng thực bản sao",
    source: "TT 226/2016/TT-BTC"
  )

  @Test(
    "a certified copy costs 2 000 VND a page for two pages, 1 000 after, at most 200 000",
    arguments: [(1, 2000), (2, 4000), (3, 5000), (10, 12000), (198, 200_000), (500, 200_000)]
  )
  func perPage(pages: Int, expected: Int64) {
    let quote = FeeQuote(
      flatVND: 0,
      rules: [Self.certifiedCopy],
      items: [HandedOverItem(documentID: "BAN_SAO", form: .copy, pages: pages)],
      copies: 1
    )
    #expect(quote.totalVND == expected)
    #expect(quote.lines.count == 1)
  }

  @Test("each certified paper is its own line; other papers cost nothing")
  func perPaper() {
    let quote = FeeQuote(
      flatVND: 0,
      rules: [Self.certifiedCopy],
      items: [
        HandedOverItem(documentID: "BAN_CHINH", form: .original, pages: 9),
        HandedOverItem(documentID: "BAN_SAO", form: .copy, pages: 3),
        HandedOverItem(documentID: "BAN_SAO", form: .copy, pages: 1),
      ],
      copies: 1
    )
    #expect(quote.lines.map(\.amountVND) == [5000, 2000])
    #expect(quote.totalVND == 7000)
  }

  @Test("a flat fee and a fee per copy add up, line by line")
  func perCopy() {
    let rule = FeeRule(
      basis: .perCopy(unitVND: 8000),
      description: "Bản sao",
      source: "TT 281/2016"
    )
    let quote = FeeQuote(flatVND: 5000, rules: [rule], items: [], copies: 3)
    #expect(quote.lines.map(\.amountVND) == [5000, 24000])
    #expect(quote.lines.last?.quantity == 3)
    #expect(quote.totalVND == 29000)
    #expect(FeeQuote(flatVND: 0, rules: [], items: [], copies: 1).lines.isEmpty)
  }
}
