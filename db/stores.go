package db

import (
	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/report"
)

// Each store implements the interfaces crm declares for its aggregate; the compiler checks it here.
var (
	_ crm.IntakeStore        = (*EnquiryStore)(nil)
	_ crm.EnquiryStore       = (*EnquiryStore)(nil)
	_ crm.ScreeningStore     = (*EnquiryStore)(nil)
	_ crm.ScreeningLinkStore = (*EnquiryStore)(nil)
	_ crm.PrivacyStore       = (*PrivacyStore)(nil)
	_ crm.StaffStore         = (*StaffStore)(nil)
	_ crm.StaffSessionStore  = (*StaffStore)(nil)
	_ crm.TokenStore         = (*StaffStore)(nil)
	_ crm.TwoFactorStore     = (*StaffStore)(nil)
	_ crm.PasswordResetStore = (*StaffStore)(nil)
	_ crm.OutboxStore        = (*OutboxStore)(nil)
	_ crm.OutboxQueue        = (*OutboxStore)(nil)
	_ crm.AuditStore         = (*AuditStore)(nil)
	_ report.Store           = (*ReportStore)(nil)
)
