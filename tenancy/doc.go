// Package tenancy holds Patchbay's tenants and everything they own:
// accounts and sub-accounts, per-account services and limits, applications,
// phone numbers, SIP domains, credential lists, IP access control lists and
// trunks. It keeps them in an SQL store, answers the lookups the SIP edge
// makes to tie a request to one account, and serves the account-management
// REST API.
package tenancy
