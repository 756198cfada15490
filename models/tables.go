package models

import (
	"time"

	"gorm.io/gorm"
)

// Queue is a chat queue (Chime's queueId is a small integer).
type Queue struct {
	ID                        uint32  `gorm:"primaryKey;autoIncrement"`
	Name                      string  `gorm:"size:200;not null"`
	Description               *string `gorm:"size:1000"`
	Mode                      string  `gorm:"size:16;not null;default:Production"` // Production | Development | Testing
	Language                  *string `gorm:"size:16"`
	IsEnabled                 bool    `gorm:"not null;default:true"`
	RoutingMode               string  `gorm:"size:20;not null;default:broadcast"` // broadcast | round_robin_hunt | priority
	MaxWaitSeconds            *uint32
	AgentAcceptTimeoutSeconds *uint32
	SLAThresholdSeconds       uint32  `gorm:"column:sla_threshold_seconds;not null;default:60"`
	SLATargetPct              float64 `gorm:"column:sla_target_pct;type:decimal(5,2);not null;default:80"`
	ShortAbandonSeconds       uint32  `gorm:"not null;default:10"`
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
	DeletedAt                 gorm.DeletedAt `gorm:"index:ix_queues_deleted"`
}

// User is a person: agent, manager or admin.
type User struct {
	ID                 uint    `gorm:"primaryKey;autoIncrement"`
	FirstName          *string `gorm:"size:100"`
	LastName           *string `gorm:"size:100"`
	DisplayName        string  `gorm:"size:200;not null"`
	Email              *string `gorm:"size:320;uniqueIndex:uq_users_email"`
	UPN                *string `gorm:"column:upn;size:320"`
	LoginName          *string `gorm:"size:200;uniqueIndex:uq_users_login"`
	SIP                *string `gorm:"column:sip;size:320"`
	AADObjectID        *string `gorm:"column:aad_object_id;size:36;uniqueIndex:uq_users_aad"`
	IsAdmin            bool    `gorm:"not null;default:false"`
	AccountType        string  `gorm:"size:16;not null;default:Production"`
	MaxChatsPerDay     uint32  `gorm:"not null;default:0"`
	MaxConcurrentChats uint32  `gorm:"not null;default:1"`
	IsActive           bool    `gorm:"not null;default:true"`
	// DefaultZone is the IANA zone used when a request names none (empty = UTC).
	DefaultZone string `gorm:"size:64;not null;default:''"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   gorm.DeletedAt `gorm:"index"`
}

// APIKey is one API key of a user. Only the SHA-256 of the lower-cased GUID
// text is stored; at most one key per user has RevokedAt == nil.
type APIKey struct {
	ID         uint       `gorm:"primaryKey;autoIncrement"`
	UserID     uint       `gorm:"not null;index:ix_api_keys_user,priority:1"`
	KeyHash    []byte     `gorm:"type:binary(32);not null;uniqueIndex:uq_api_keys_hash"`
	KeyHint    string     `gorm:"size:4;not null"`
	CreatedAt  time.Time  `gorm:"not null"`
	RevokedAt  *time.Time `gorm:"index:ix_api_keys_user,priority:2"`
	LastUsedAt *time.Time
	LastClient string `gorm:"size:200;not null;default:''"`
}

// TableName keeps the table name of the specification.
func (APIKey) TableName() string { return "api_keys" }

// QueueMember is queue membership: routing and ACL.
type QueueMember struct {
	QueueID       uint32 `gorm:"primaryKey;autoIncrement:false"`
	UserID        uint   `gorm:"primaryKey;autoIncrement:false;index:ix_qm_user,priority:1"`
	Role          string `gorm:"size:10;not null;default:agent;index:ix_qm_user,priority:2"` // agent | manager | reviewer
	Priority      uint8  `gorm:"not null;default:1"`
	ReceivesChats bool   `gorm:"not null;default:true"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SkillTag is a routing tag ("/agent /outlookPW").
type SkillTag struct {
	ID   uint32 `gorm:"primaryKey;autoIncrement"`
	Name string `gorm:"size:100;not null;uniqueIndex:uq_skill_tags_name"`
}

// UserSkillTag binds a tag to a user, globally (QueueID 0) or for one queue.
type UserSkillTag struct {
	UserID  uint   `gorm:"primaryKey;autoIncrement:false"`
	TagID   uint32 `gorm:"primaryKey;autoIncrement:false"`
	QueueID uint32 `gorm:"primaryKey;autoIncrement:false;default:0"`
}

// Seeker is a guest.
type Seeker struct {
	ID              uint      `gorm:"primaryKey;autoIncrement"`
	ExternalID      string    `gorm:"size:255;not null;uniqueIndex:uq_seekers_ext"`
	ChannelID       *string   `gorm:"size:32"`
	FirstName       *string   `gorm:"size:100"`
	LastName        *string   `gorm:"size:100"`
	DisplayName     *string   `gorm:"size:200"`
	Email           *string   `gorm:"size:320;index:ix_seekers_email"`
	UPN             *string   `gorm:"column:upn;size:320"`
	AADObjectID     *string   `gorm:"column:aad_object_id;size:36"`
	AADTenantID     *string   `gorm:"column:aad_tenant_id;size:36"`
	Locale          *string   `gorm:"size:16"`
	Country         *string   `gorm:"size:2"`
	TimeZone        *string   `gorm:"size:64"`
	Platform        *string   `gorm:"size:64"`
	IsAuthenticated bool      `gorm:"not null;default:false"`
	FirstSeenAt     time.Time `gorm:"not null"`
	LastSeenAt      time.Time `gorm:"not null"`
}

// Session states and end reasons (docs/data-model.md "Session lifecycle").
const (
	StateBot          = "Bot"
	StateWaiting      = "Waiting"
	StateConnected    = "Connected"
	StateDeflected    = "Deflected"
	StateBotAbandoned = "BotAbandoned"
	StateAbandoned    = "Abandoned"
	StateTimedOut     = "TimedOut"
	StateCompleted    = "Completed"
	StateTransferred  = "Transferred"
)

// ChatSession is one queue visit. Its ID is the public SessionID.
//
// Two indexes hold every column the raw scans of the reports read, so
// those scans never look up the wide row: ix_cs_q_queued (queue_id,
// queued_at, state, accepted_at, ended_at, first_agent_message_at,
// conversation_guid) for the exact wait percentiles and the distinct
// conversations by arrival, ix_cs_q_started_times (queue_id, started_at,
// state, queued_at, accepted_at, ended_at, seeker_id) for aggregates of a
// range of StartedAt and the distinct guests by start.
type ChatSession struct {
	ID                  uint    `gorm:"primaryKey;autoIncrement"`
	SessionGUID         string  `gorm:"column:session_guid;size:36;not null;uniqueIndex:uq_cs_guid"`
	ConversationGUID    string  `gorm:"column:conversation_guid;size:36;not null;index:ix_cs_conv;index:ix_cs_q_queued,priority:7"`
	ParentSessionID     *uint   `gorm:"index:ix_cs_parent"`
	QueueID             uint32  `gorm:"not null;index:ix_cs_q_queued,priority:1;index:ix_cs_q_started,priority:1;index:ix_cs_open,priority:2;index:ix_cs_q_started_upd,priority:1;index:ix_cs_q_queued_upd,priority:1;index:ix_cs_q_started_times,priority:1"`
	SeekerID            uint    `gorm:"not null;index:ix_cs_seeker,priority:1;index:ix_cs_q_started_times,priority:7"`
	EntryPoint          string  `gorm:"size:12;not null"` // teams | webclient | directline | sharepoint | api | other
	Question            *string `gorm:"type:text"`
	SkillTag            *string `gorm:"size:100"`
	Locale              *string `gorm:"size:16"`
	ReferrerURL         *string `gorm:"column:referrer_url;size:2048"`
	ClientIP            *string `gorm:"column:client_ip;size:45"`
	Hostname            *string `gorm:"size:255"`
	SeekerOffsetMinutes *int16
	State               string    `gorm:"size:12;not null;index:ix_cs_open,priority:1;index:ix_cs_q_started_times,priority:3;index:ix_cs_q_queued,priority:3"`
	EndReason           *string   `gorm:"size:16"`
	StartedAt           time.Time `gorm:"not null;index:ix_cs_q_started,priority:2;index:ix_cs_seeker,priority:2;index:ix_cs_q_started_upd,priority:2;index:ix_cs_q_started_times,priority:2"`
	BotStartedAt        *time.Time
	BotEndedAt          *time.Time
	QueuedAt            *time.Time `gorm:"index:ix_cs_q_queued,priority:2;index:ix_cs_q_queued_upd,priority:2;index:ix_cs_q_started_times,priority:4"`
	FirstOfferedAt      *time.Time
	AcceptedAt          *time.Time `gorm:"index:ix_cs_q_started_times,priority:5;index:ix_cs_q_queued,priority:4"`
	FirstAgentMessageAt *time.Time `gorm:"index:ix_cs_q_queued,priority:6"`
	EndedAt             *time.Time `gorm:"index:ix_cs_q_started_times,priority:6;index:ix_cs_q_queued,priority:5"`
	LastActivityAt      time.Time  `gorm:"not null"`
	FirstAgentID        *uint      `gorm:"index:ix_cs_agent_acc,priority:1"`
	LastAgentID         *uint
	MessageCount        uint32 `gorm:"not null;default:0"`
	SeekerMessageCount  uint32 `gorm:"not null;default:0"`
	AgentMessageCount   uint32 `gorm:"not null;default:0"`
	BotMessageCount     uint32 `gorm:"not null;default:0"`
	FileCount           uint32 `gorm:"not null;default:0"`
	AgentTransferCount  uint8  `gorm:"not null;default:0"`
	IsResolved          *bool
	ResolutionNotes     *string `gorm:"type:text"`
	ResolvedByUserID    *uint
	SentimentScore      *float64 `gorm:"type:decimal(4,3)"`
	Metadata            *string  `gorm:"type:json"`
	// KeywordsIndexedAt marks a closed session whose keywords are in
	// session_keywords (reports/textindex); NULL means still to index.
	KeywordsIndexedAt *time.Time `gorm:"index:ix_cs_kw_pending"`
	CreatedAt         time.Time
	// UpdatedAt moves on every change of the row (GORM sets it; other
	// writers must too): the reports' data fingerprint reads it from the
	// ix_cs_q_*_upd indexes without touching the rows.
	UpdatedAt time.Time `gorm:"index:ix_cs_q_started_upd,priority:3;index:ix_cs_q_queued_upd,priority:3"`
}

// SessionParticipant is one agent's participation in a session.
type SessionParticipant struct {
	ID             uint      `gorm:"primaryKey;autoIncrement"`
	SessionID      uint      `gorm:"not null;index:ix_sp_session"`
	UserID         uint      `gorm:"not null;index:ix_sp_user_joined,priority:1"`
	Role           string    `gorm:"size:10;not null;default:agent"` // agent | supervisor
	JoinReason     string    `gorm:"size:16;not null"`               // accepted | agent_transfer | conference
	JoinedAt       time.Time `gorm:"not null;index:ix_sp_user_joined,priority:2"`
	LeftAt         *time.Time
	LeaveReason    *string `gorm:"size:16"` // session_ended | transferred | left
	FirstMessageAt *time.Time
	MessageCount   uint32 `gorm:"not null;default:0"`
}

// SessionOffer is one prompt sent to an agent.
type SessionOffer struct {
	ID          uint      `gorm:"primaryKey;autoIncrement"`
	SessionID   uint      `gorm:"not null;index:ix_so_session"`
	UserID      uint      `gorm:"not null;index:ix_so_user_offered,priority:1"`
	OfferedAt   time.Time `gorm:"not null;index:ix_so_user_offered,priority:2"`
	RespondedAt *time.Time
	Outcome     *string `gorm:"size:16"` // accepted | declined | timeout | taken_by_other | withdrawn; nil = pending
}

// SessionMessage is one transcript line.
type SessionMessage struct {
	ID             uint      `gorm:"primaryKey;autoIncrement"`
	SessionID      uint      `gorm:"not null;uniqueIndex:uq_sm_session_seq,priority:1"`
	Seq            uint32    `gorm:"not null;uniqueIndex:uq_sm_session_seq,priority:2"`
	SentAt         time.Time `gorm:"not null;index:ix_sm_sent"`
	SenderType     string    `gorm:"size:8;not null"` // seeker | agent | bot | system
	SenderUserID   *uint
	SenderName     *string  `gorm:"size:200"`
	ContentType    string   `gorm:"size:100;not null;default:text/plain"`
	Body           *string  `gorm:"type:mediumtext"`
	CardJSON       *string  `gorm:"column:card_json;type:json"`
	Attachments    *string  `gorm:"type:json"`
	TextResource   *string  `gorm:"size:64"`
	IsInternal     bool     `gorm:"not null;default:false"`
	SentimentScore *float64 `gorm:"type:decimal(4,3)"`
}

// SessionEvent is the audit trail of a session.
type SessionEvent struct {
	ID          uint      `gorm:"primaryKey;autoIncrement"`
	SessionID   uint      `gorm:"not null;index:ix_se_session_at,priority:1"`
	At          time.Time `gorm:"not null;index:ix_se_session_at,priority:2;index:ix_se_type_at,priority:2"`
	Type        string    `gorm:"size:40;not null;index:ix_se_type_at,priority:1"`
	ActorType   string    `gorm:"size:8;not null"`
	ActorUserID *uint
	Data        *string `gorm:"type:json"`
}

// Bot is a bot in front of one or more queues.
type Bot struct {
	ID        uint32  `gorm:"primaryKey;autoIncrement"`
	Name      string  `gorm:"size:200;not null"`
	Kind      string  `gorm:"size:12;not null"` // directline | faq | pipeline | external
	AppID     *string `gorm:"size:64"`
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt gorm.DeletedAt `gorm:"index"`
}

// BotInteraction is the bot part of one session.
type BotInteraction struct {
	ID                  uint      `gorm:"primaryKey;autoIncrement"`
	SessionID           uint      `gorm:"not null;uniqueIndex:uq_bi_session"`
	BotID               uint32    `gorm:"not null;index:ix_bi_bot_started,priority:1"`
	QueueID             uint32    `gorm:"not null;index:ix_bi_q_started,priority:1"`
	StartedAt           time.Time `gorm:"not null;index:ix_bi_q_started,priority:2;index:ix_bi_bot_started,priority:2"`
	EndedAt             *time.Time
	Outcome             *string  `gorm:"size:10"` // deflected | handoff | abandoned | timeout | error; nil = in progress
	HandoffReason       *string  `gorm:"size:20"`
	Turns               uint16   `gorm:"not null;default:0"`
	BotMessageCount     uint16   `gorm:"not null;default:0"`
	SeekerMessageCount  uint16   `gorm:"not null;default:0"`
	TopIntent           *string  `gorm:"size:200"`
	TopIntentConfidence *float64 `gorm:"type:decimal(4,3)"`
	FAQItemID           *string  `gorm:"column:faq_item_id;size:100"`
	Feedback            *string  `gorm:"size:12"` // helpful | not_helpful
}

// SessionRating is a post-chat survey answer.
type SessionRating struct {
	SessionID    uint      `gorm:"primaryKey;autoIncrement:false"`
	QueueID      uint32    `gorm:"not null;index:ix_sr_q_sub,priority:1"`
	Rating       uint8     `gorm:"not null"`
	ScaleMax     uint8     `gorm:"not null;default:5"`
	Comment      *string   `gorm:"type:text"`
	RatedAgentID *uint     `gorm:"index:ix_sr_agent,priority:1"`
	SubmittedAt  time.Time `gorm:"not null;index:ix_sr_q_sub,priority:2;index:ix_sr_agent,priority:2"`
}

// SessionKeyword is one keyword of a session's text, by source.
type SessionKeyword struct {
	SessionID   uint      `gorm:"primaryKey;autoIncrement:false"`
	Source      string    `gorm:"primaryKey;size:8"` // question | seeker | agent
	Keyword     string    `gorm:"primaryKey;size:64;index:ix_sk_q_time_kw,priority:3"`
	Occurrences uint16    `gorm:"not null"`
	QueueID     uint32    `gorm:"not null;index:ix_sk_q_time_kw,priority:1"`
	StartedAt   time.Time `gorm:"not null;index:ix_sk_q_time_kw,priority:2"`
}

// AgentPresence is one presence interval of an agent.
type AgentPresence struct {
	ID        uint      `gorm:"primaryKey;autoIncrement"`
	UserID    uint      `gorm:"not null;index:ix_ap_user_start,priority:1"`
	Status    string    `gorm:"size:16;not null"` // available | busy | away | do_not_disturb | offline
	StartedAt time.Time `gorm:"not null;index:ix_ap_user_start,priority:2"`
	EndedAt   *time.Time
}

// TableName keeps the table name of the specification.
func (AgentPresence) TableName() string { return "agent_presence" }

// AuditRecord is one authenticated call. It never holds a key, only the
// key's 4-character hint.
type AuditRecord struct {
	ID         uint      `gorm:"primaryKey;autoIncrement"`
	At         time.Time `gorm:"not null;index:ix_audit_at;index:ix_audit_user_at,priority:2"`
	UserID     uint      `gorm:"not null;index:ix_audit_user_at,priority:1"`
	KeyHint    string    `gorm:"size:4;not null"`
	Method     string    `gorm:"size:8;not null"`
	Route      string    `gorm:"size:200;not null"`
	Query      string    `gorm:"type:text"`
	Status     int       `gorm:"not null"`
	Rows       int64     `gorm:"not null;default:0"`
	Bytes      int64     `gorm:"not null;default:0"`
	DurationMS int64     `gorm:"column:duration_ms;not null;default:0"`
	ClientIP   string    `gorm:"size:45;not null;default:''"`
	UserAgent  string    `gorm:"size:300;not null;default:''"`
	// Outcome is how the answer ended: complete, client_gone, stalled,
	// db_error, shutdown or server_error (keys.Outcome*).
	Outcome string `gorm:"size:16;not null;default:'complete'"`
}

// TableName keeps audit records in audit_log.
func (AuditRecord) TableName() string { return "audit_log" }
