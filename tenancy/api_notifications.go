package tenancy

import (
	"context"
	"strconv"
)

// notificationView is a notification as the CPaaS Notifications resource
// shows it.
type notificationView struct {
	baseView
	APIVersion  string `json:"api_version"`
	CallSID     any    `json:"call_sid"` // null when no call is concerned
	ErrorCode   string `json:"error_code"`
	Log         string `json:"log"` // "0" error, "1" warning
	MessageText string `json:"message_text"`
	MessageDate string `json:"message_date"`
	RequestURL  string `json:"request_url"`
	MoreInfo    string `json:"more_info"`
}

func viewNotification(_ scope, uri string, n *Notification) any {
	var call any
	if n.CallSID != "" {
		call = n.CallSID
	}

	return notificationView{baseView: newBase(n.SID, n.AccountSID, n.Created, n.Updated, uri),
		APIVersion: apiVersion, CallSID: call, ErrorCode: strconv.Itoa(n.ErrorCode),
		Log: strconv.Itoa(int(n.Level)), MessageText: n.Message,
		MessageDate: FormatTime(n.Created), RequestURL: n.RequestURL,
		MoreInfo: moreInfoURL}
}

// mountNotifications serves the account's notifications: list, fetch and
// delete. The platform creates them; accounts cannot.
func (a *API) mountNotifications() {
	s := a.store
	mount(a, resource[Notification]{
		base:    "/2010-04-01/Accounts/{AccountSid}/Notifications",
		listKey: "notifications",
		fetch: func(ctx context.Context, sc scope, sid string) (*Notification, error) {
			return s.NotificationBySID(ctx, sc.acct.SID, sid)
		},
		remove: func(ctx context.Context, sc scope, sid string) error {
			return s.DeleteNotification(ctx, sc.acct.SID, sid)
		},
		list: func(ctx context.Context, sc scope, p Page) ([]*Notification, bool, error) {
			return s.ListNotifications(ctx, sc.acct.SID, p)
		},
		view:  viewNotification,
		sidOf: func(n *Notification) string { return n.SID },
	})
}
