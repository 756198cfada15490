package details

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
)

// DetailsAccess is what a caller may see of sessions: the queues whose
// sessions it may open (managers and reviewers) and those whose internal
// notes it may read (managers; admins see every queue in both).
type DetailsAccess struct {
	Reviewable []uint32
	Internal   []uint32
}

// SessionDetails is the API shape of one chat (docs/api.md "SessionDetails").
// Times are rendered in the requested zone; durations are seconds.
type SessionDetails struct {
	SessionID        uint             `json:"sessionId"`
	SessionGUID      string           `json:"sessionGuid"`
	ConversationGUID string           `json:"conversationGuid"`
	ParentSessionID  *uint            `json:"parentSessionId"`
	ChildSessionID   *uint            `json:"childSessionId"`
	Queue            reports.QueueRef `json:"queue"`
	State            string           `json:"state"`
	EndReason        *string          `json:"endReason"`
	EntryPoint       string           `json:"entryPoint"`
	Question         *string          `json:"question"`
	SkillTag         *string          `json:"skillTag"`
	Locale           *string          `json:"locale"`
	Zone             string           `json:"zone"`
	Timestamps       DetailsTimes     `json:"timestamps"`
	Metrics          DetailsMetrics   `json:"metrics"`
	Seeker           *DetailsSeeker   `json:"seeker"`
	Agents           []DetailsAgent   `json:"agents"`
	Offers           []DetailsOffer   `json:"offers"`
	Bot              *DetailsBot      `json:"bot"`
	Transfers        []DetailsXfer    `json:"transfers"`
	Rating           *DetailsRating   `json:"rating"`
	Resolution       DetailsResolved  `json:"resolution"`
	Sentiment        *DetailsScore    `json:"sentiment"`
	Metadata         json.RawMessage  `json:"metadata"`
	Events           []DetailsEvent   `json:"events"`
	Transcript       []DetailsMessage `json:"transcript"`
}

// DetailsTimes are the lifecycle instants of a session.
type DetailsTimes struct {
	StartedAt           *string `json:"startedAt"`
	BotStartedAt        *string `json:"botStartedAt"`
	BotEndedAt          *string `json:"botEndedAt"`
	QueuedAt            *string `json:"queuedAt"`
	FirstOfferedAt      *string `json:"firstOfferedAt"`
	AcceptedAt          *string `json:"acceptedAt"`
	FirstAgentMessageAt *string `json:"firstAgentMessageAt"`
	EndedAt             *string `json:"endedAt"`
}

// DetailsMetrics are the per-session durations and counts.
type DetailsMetrics struct {
	BotSeconds           *float64 `json:"botSeconds"`
	WaitSeconds          *float64 `json:"waitSeconds"`
	FirstResponseSeconds *float64 `json:"firstResponseSeconds"`
	HandleSeconds        *float64 `json:"handleSeconds"`
	DurationSeconds      *float64 `json:"durationSeconds"`
	MessageCount         uint32   `json:"messageCount"`
	SeekerMessageCount   uint32   `json:"seekerMessageCount"`
	AgentMessageCount    uint32   `json:"agentMessageCount"`
	BotMessageCount      uint32   `json:"botMessageCount"`
	FileCount            uint32   `json:"fileCount"`
	AgentTransferCount   uint8    `json:"agentTransferCount"`
}

// DetailsSeeker is the guest.
type DetailsSeeker struct {
	ID              uint    `json:"id"`
	ExternalID      string  `json:"externalId"`
	ChannelID       *string `json:"channelId"`
	FirstName       *string `json:"firstName"`
	LastName        *string `json:"lastName"`
	DisplayName     *string `json:"displayName"`
	Email           *string `json:"email"`
	UPN             *string `json:"upn"`
	IsAuthenticated bool    `json:"isAuthenticated"`
	Country         *string `json:"country"`
	TimeZone        *string `json:"timeZone"`
	Platform        *string `json:"platform"`
	IP              *string `json:"ip"`
	ReferrerURL     *string `json:"referrerUrl"`
	Hostname        *string `json:"hostname"`
	OffsetMinutes   *int16  `json:"offsetMinutes"`
}

// DetailsAgent is one participation of an agent.
type DetailsAgent struct {
	UserID         uint    `json:"userId"`
	DisplayName    string  `json:"displayName"`
	Email          *string `json:"email"`
	Role           string  `json:"role"`
	JoinReason     string  `json:"joinReason"`
	JoinedAt       *string `json:"joinedAt"`
	LeftAt         *string `json:"leftAt"`
	LeaveReason    *string `json:"leaveReason"`
	FirstMessageAt *string `json:"firstMessageAt"`
	MessageCount   uint32  `json:"messageCount"`
}

// DetailsOffer is one prompt to an agent.
type DetailsOffer struct {
	UserID      uint    `json:"userId"`
	DisplayName string  `json:"displayName"`
	OfferedAt   *string `json:"offeredAt"`
	RespondedAt *string `json:"respondedAt"`
	Outcome     *string `json:"outcome"`
}

// DetailsBot is the bot part of the session.
type DetailsBot struct {
	BotID               uint32   `json:"botId"`
	BotName             string   `json:"botName"`
	StartedAt           *string  `json:"startedAt"`
	EndedAt             *string  `json:"endedAt"`
	Outcome             *string  `json:"outcome"`
	HandoffReason       *string  `json:"handoffReason"`
	Turns               uint16   `json:"turns"`
	TopIntent           *string  `json:"topIntent"`
	TopIntentConfidence *float64 `json:"topIntentConfidence"`
	Feedback            *string  `json:"feedback"`
}

// DetailsXfer is one transfer into or out of the session shown.
type DetailsXfer struct {
	Type        string  `json:"type"`      // queue | agent
	Direction   string  `json:"direction"` // in | out
	At          *string `json:"at"`
	SessionID   *uint   `json:"sessionId,omitempty"`
	FromQueueID *uint32 `json:"fromQueueId,omitempty"`
	ToQueueID   *uint32 `json:"toQueueId,omitempty"`
	FromUserID  *uint   `json:"fromUserId,omitempty"`
	ToUserID    *uint   `json:"toUserId,omitempty"`
}

// DetailsRating is the post-chat survey.
type DetailsRating struct {
	Rating       uint8   `json:"rating"`
	ScaleMax     uint8   `json:"scaleMax"`
	Label        string  `json:"label"`
	Comment      *string `json:"comment"`
	RatedAgentID *uint   `json:"ratedAgentId"`
	SubmittedAt  *string `json:"submittedAt"`
}

// DetailsResolved is the resolution status.
type DetailsResolved struct {
	IsResolved *bool         `json:"isResolved"`
	Notes      *string       `json:"notes"`
	ResolvedBy *DetailsActor `json:"resolvedBy"`
}

// DetailsActor names a person.
type DetailsActor struct {
	UserID uint   `json:"userId"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

// DetailsScore is a sentiment score with its label.
type DetailsScore struct {
	Score float64 `json:"score"`
	Label string  `json:"label"`
}

// DetailsEvent is one lifecycle event.
type DetailsEvent struct {
	At          *string         `json:"at"`
	Type        string          `json:"type"`
	ActorType   string          `json:"actorType"`
	ActorUserID *uint           `json:"actorUserId,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
}

// DetailsMessage is one transcript line.
type DetailsMessage struct {
	Seq          uint32          `json:"seq"`
	SentAt       *string         `json:"sentAt"`
	SenderType   string          `json:"senderType"`
	SenderName   *string         `json:"senderName"`
	UserID       *uint           `json:"userId"`
	ContentType  string          `json:"contentType"`
	Text         *string         `json:"text"`
	Card         json.RawMessage `json:"card"`
	Attachments  json.RawMessage `json:"attachments"`
	Internal     bool            `json:"internal"`
	TextResource *string         `json:"textResource,omitempty"`
}

// SentimentLabel applies the cut-offs of docs/data-model.md: Positive above 0.25,
// Negative below −0.25, otherwise Neutral.
func SentimentLabel(score float64) string {
	switch {
	case score > 0.25:
		return "Positive"
	case score < -0.25:
		return "Negative"
	}
	return "Neutral"
}

var ratingLabels = map[uint8]string{5: "Excellent", 4: "Good", 3: "OK", 2: "Poor", 1: "Bad"}

// Load loads one session with everything around it. A session
// that does not exist and one the caller may not open are the same 404.
func Load(ctx context.Context, e *reports.Engine, id uint64, zone *time.Location, acc DetailsAccess) (*SessionDetails, error) {
	db := e.DB().WithContext(ctx)
	notFound := apierror.NotFoundf(fmt.Sprintf("session %d not found", id))
	notFound.Target = "SessionID"
	var s models.ChatSession
	if err := db.First(&s, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, notFound
		}
		return nil, models.Classify(err)
	}
	if !slices.Contains(acc.Reviewable, s.QueueID) {
		return nil, notFound
	}
	t := func(v *time.Time) *string {
		if v == nil {
			return nil
		}
		f := reports.FormatTime(v.In(zone))
		return &f
	}
	d := &SessionDetails{
		SessionID: s.ID, SessionGUID: s.SessionGUID, ConversationGUID: s.ConversationGUID, ParentSessionID: s.ParentSessionID,
		State: s.State, EndReason: s.EndReason, EntryPoint: s.EntryPoint, Question: s.Question, SkillTag: s.SkillTag,
		Locale: s.Locale, Zone: zone.String(),
		Timestamps: DetailsTimes{StartedAt: t(&s.StartedAt), BotStartedAt: t(s.BotStartedAt), BotEndedAt: t(s.BotEndedAt),
			QueuedAt: t(s.QueuedAt), FirstOfferedAt: t(s.FirstOfferedAt), AcceptedAt: t(s.AcceptedAt),
			FirstAgentMessageAt: t(s.FirstAgentMessageAt), EndedAt: t(s.EndedAt)},
		Agents: []DetailsAgent{}, Offers: []DetailsOffer{}, Transfers: []DetailsXfer{}, Events: []DetailsEvent{},
		Transcript: []DetailsMessage{}, Metadata: raw(s.Metadata, "null"),
		Resolution: DetailsResolved{IsResolved: s.IsResolved, Notes: s.ResolutionNotes},
	}
	var q models.Queue
	if err := db.Unscoped().First(&q, s.QueueID).Error; err != nil {
		return nil, models.Classify(err)
	}
	d.Queue = reports.QueueRef{ID: q.ID, Name: q.Name}

	sid := int64(s.ID)
	wait, waitOK, handle, handleOK := reports.SessionDurations(&s, &q)
	m := &d.Metrics
	m.MessageCount, m.SeekerMessageCount, m.AgentMessageCount = s.MessageCount, s.SeekerMessageCount, s.AgentMessageCount
	m.BotMessageCount, m.FileCount, m.AgentTransferCount = s.BotMessageCount, s.FileCount, s.AgentTransferCount
	if s.BotStartedAt != nil && s.BotEndedAt != nil {
		m.BotSeconds = secondsOut(reports.DurationSeconds(*s.BotStartedAt, *s.BotEndedAt, sid))
	}
	if waitOK {
		m.WaitSeconds = secondsOut(wait)
	}
	if s.AcceptedAt != nil && s.FirstAgentMessageAt != nil {
		m.FirstResponseSeconds = secondsOut(reports.DurationSeconds(*s.AcceptedAt, *s.FirstAgentMessageAt, sid))
	}
	if handleOK {
		m.HandleSeconds = secondsOut(handle)
	}
	if s.EndedAt != nil {
		m.DurationSeconds = secondsOut(reports.DurationSeconds(s.StartedAt, *s.EndedAt, sid))
	}
	if s.SentimentScore != nil {
		d.Sentiment = &DetailsScore{Score: *s.SentimentScore, Label: SentimentLabel(*s.SentimentScore)}
	}

	users := map[uint]models.User{}
	user := func(id uint) models.User {
		if u, ok := users[id]; ok {
			return u
		}
		var u models.User
		db.Unscoped().Select("id", "display_name", "email").First(&u, id)
		users[id] = u
		return u
	}
	if s.ResolvedByUserID != nil {
		d.Resolution.ResolvedBy = &DetailsActor{UserID: *s.ResolvedByUserID, Name: user(*s.ResolvedByUserID).DisplayName, Type: "Agent"}
	}

	// The legs of a transfer chain are linked only when the caller may open
	// them: a leg in another queue is that queue's row (id, time, queue).
	var child models.ChatSession
	if err := db.Select("id", "queue_id", "started_at").Where("parent_session_id = ? AND queue_id IN ?", s.ID, reports.NonEmpty(acc.Reviewable)).
		Order("id").Limit(1).Find(&child).Error; err != nil {
		return nil, models.Classify(err)
	}
	if child.ID != 0 {
		d.ChildSessionID = &child.ID
		d.Transfers = append(d.Transfers, DetailsXfer{Type: "queue", Direction: "out", At: t(&child.StartedAt), SessionID: &child.ID,
			FromQueueID: &s.QueueID, ToQueueID: &child.QueueID})
	}
	if s.ParentSessionID != nil {
		var parent models.ChatSession
		if err := db.Select("id", "queue_id").Where("id = ? AND queue_id IN ?", *s.ParentSessionID, reports.NonEmpty(acc.Reviewable)).Limit(1).Find(&parent).Error; err != nil {
			return nil, models.Classify(err)
		}
		if parent.ID != 0 {
			d.Transfers = append([]DetailsXfer{{Type: "queue", Direction: "in", At: t(&s.StartedAt), SessionID: &parent.ID,
				FromQueueID: &parent.QueueID, ToQueueID: &s.QueueID}}, d.Transfers...)
		}
	}

	var seeker models.Seeker
	if err := db.Where("id = ?", s.SeekerID).Limit(1).Find(&seeker).Error; err != nil {
		return nil, models.Classify(err)
	}
	if seeker.ID != 0 {
		d.Seeker = &DetailsSeeker{ID: seeker.ID, ExternalID: seeker.ExternalID, ChannelID: seeker.ChannelID, FirstName: seeker.FirstName,
			LastName: seeker.LastName, DisplayName: seeker.DisplayName, Email: seeker.Email, UPN: seeker.UPN,
			IsAuthenticated: seeker.IsAuthenticated, Country: seeker.Country, TimeZone: seeker.TimeZone, Platform: seeker.Platform,
			IP: s.ClientIP, ReferrerURL: s.ReferrerURL, Hostname: s.Hostname, OffsetMinutes: s.SeekerOffsetMinutes}
	}

	var parts []models.SessionParticipant
	if err := db.Where("session_id = ?", s.ID).Order("joined_at, id").Find(&parts).Error; err != nil {
		return nil, models.Classify(err)
	}
	var transferredFrom *uint
	for _, p := range parts {
		u := user(p.UserID)
		d.Agents = append(d.Agents, DetailsAgent{UserID: p.UserID, DisplayName: u.DisplayName, Email: u.Email, Role: p.Role,
			JoinReason: p.JoinReason, JoinedAt: t(&p.JoinedAt), LeftAt: t(p.LeftAt), LeaveReason: p.LeaveReason,
			FirstMessageAt: t(p.FirstMessageAt), MessageCount: p.MessageCount})
		if p.JoinReason == "agent_transfer" {
			d.Transfers = append(d.Transfers, DetailsXfer{Type: "agent", Direction: "in", At: t(&p.JoinedAt), FromUserID: transferredFrom, ToUserID: &p.UserID})
		}
		if p.LeaveReason != nil && *p.LeaveReason == "transferred" {
			uid := p.UserID
			transferredFrom = &uid
		}
	}

	var offers []models.SessionOffer
	if err := db.Where("session_id = ?", s.ID).Order("offered_at, id").Find(&offers).Error; err != nil {
		return nil, models.Classify(err)
	}
	for _, o := range offers {
		d.Offers = append(d.Offers, DetailsOffer{UserID: o.UserID, DisplayName: user(o.UserID).DisplayName, OfferedAt: t(&o.OfferedAt),
			RespondedAt: t(o.RespondedAt), Outcome: o.Outcome})
	}

	var bi models.BotInteraction
	if err := db.Where("session_id = ?", s.ID).Limit(1).Find(&bi).Error; err != nil {
		return nil, models.Classify(err)
	}
	if bi.ID != 0 {
		var bot models.Bot
		db.Unscoped().Where("id = ?", bi.BotID).Limit(1).Find(&bot)
		d.Bot = &DetailsBot{BotID: bi.BotID, BotName: bot.Name, StartedAt: t(&bi.StartedAt), EndedAt: t(bi.EndedAt), Outcome: bi.Outcome,
			HandoffReason: bi.HandoffReason, Turns: bi.Turns, TopIntent: bi.TopIntent, TopIntentConfidence: bi.TopIntentConfidence, Feedback: bi.Feedback}
	}

	var r models.SessionRating
	if err := db.Where("session_id = ?", s.ID).Limit(1).Find(&r).Error; err != nil {
		return nil, models.Classify(err)
	}
	if r.SessionID != 0 {
		d.Rating = &DetailsRating{Rating: r.Rating, ScaleMax: r.ScaleMax, Label: ratingLabels[r.Rating], Comment: r.Comment,
			RatedAgentID: r.RatedAgentID, SubmittedAt: t(&r.SubmittedAt)}
	}

	var events []models.SessionEvent
	if err := db.Where("session_id = ?", s.ID).Order("at, id").Find(&events).Error; err != nil {
		return nil, models.Classify(err)
	}
	for _, ev := range events {
		d.Events = append(d.Events, DetailsEvent{At: t(&ev.At), Type: ev.Type, ActorType: ev.ActorType, ActorUserID: ev.ActorUserID, Data: raw(ev.Data, "")})
	}
	if err := redactEvents(db, d.Events, acc.Reviewable); err != nil {
		return nil, models.Classify(err)
	}

	msgs := db.Where("session_id = ?", s.ID)
	if !slices.Contains(acc.Internal, s.QueueID) {
		msgs = msgs.Where("is_internal = ?", false)
	}
	var ms []models.SessionMessage
	if err := msgs.Order("seq").Find(&ms).Error; err != nil {
		return nil, models.Classify(err)
	}
	for _, msg := range ms {
		d.Transcript = append(d.Transcript, DetailsMessage{Seq: msg.Seq, SentAt: t(&msg.SentAt), SenderType: msg.SenderType,
			SenderName: msg.SenderName, UserID: msg.SenderUserID, ContentType: msg.ContentType, Text: msg.Body,
			Card: raw(msg.CardJSON, "null"), Attachments: raw(msg.Attachments, "[]"), Internal: msg.IsInternal, TextResource: msg.TextResource})
	}
	return d, nil
}

// raw passes stored JSON through; invalid or missing JSON becomes def ("" = omit).
func raw(s *string, def string) json.RawMessage {
	if s != nil && json.Valid([]byte(*s)) {
		return json.RawMessage(*s)
	}
	if def == "" {
		return nil
	}
	return json.RawMessage(def)
}

// secondsOut rounds a duration for output (1 decimal place, as everywhere).
func secondsOut(v float64) *float64 {
	r := reports.Round(v, 1)
	return &r
}
