package odata

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"slices"
	"sync"

	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/query"
)

// Namespace is the CSDL schema namespace of the feed's types.
const Namespace = "Chime"

// EdmType is the OData type of a report column type. Durations are numbers
// of seconds (Edm.Double), never Edm.Duration, which Power BI reads as days.
func EdmType(t reports.ColumnType) string {
	switch t {
	case reports.Int:
		return "Edm.Int64"
	case reports.Seconds, reports.Pct, reports.Decimal:
		return "Edm.Double"
	case reports.Date:
		return "Edm.Date"
	case reports.DateTime:
		return "Edm.DateTimeOffset"
	}
	return "Edm.String"
}

var (
	metadataOnce sync.Once
	metadataDoc  []byte
)

// Metadata returns the CSDL XML document (Version 4.0) generated from the
// registry: an entity type and set per report, plus Sessions, Queues,
// Agents, Messages and Ratings; navigation properties between the raw sets
// with their referential constraints and bindings; keys of non-nullable
// properties; descriptions as
// Core.Description; and, on the container, Aggregation.ApplySupported
// naming the $apply transformations the feed evaluates. No other
// capability is declared (docs/powerbi.md, rule 14).
func Metadata() []byte {
	metadataOnce.Do(func() { metadataDoc = buildMetadata() })
	return metadataDoc
}

func buildMetadata() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">` + "\n")
	b.WriteString(`<edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">` +
		`<edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/></edmx:Reference>` + "\n")
	b.WriteString(`<edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Aggregation.V1.xml">` +
		`<edmx:Include Namespace="Org.OData.Aggregation.V1" Alias="Aggregation"/></edmx:Reference>` + "\n")
	b.WriteString(`<edmx:DataServices>` + "\n")
	b.WriteString(`<Schema Namespace="` + Namespace + `" xmlns="http://docs.oasis-open.org/odata/ns/edm">` + "\n")
	for _, s := range query.Sets() {
		b.WriteString(`<EntityType Name="` + attr(s.Name) + `">`)
		b.WriteString(`<Key>`)
		for _, k := range s.Key {
			b.WriteString(`<PropertyRef Name="` + attr(k) + `"/>`)
		}
		b.WriteString("</Key>\n")
		for _, p := range s.Props {
			b.WriteString(`<Property Name="` + attr(p.Name) + `" Type="` + EdmType(p.Type) + `"`)
			if slices.Contains(s.Key, p.Name) {
				b.WriteString(` Nullable="false"`)
			}
			if p.Description == "" {
				b.WriteString("/>\n")
				continue
			}
			b.WriteString(`>`)
			description(&b, p.Description)
			b.WriteString("</Property>\n")
		}
		for _, n := range s.Navs() {
			typ := Namespace + "." + n.Target
			if n.Many {
				typ = "Collection(" + typ + ")"
			}
			b.WriteString(`<NavigationProperty Name="` + attr(n.Name) + `" Type="` + attr(typ) + `"`)
			if !n.Many && !n.Nullable {
				b.WriteString(` Nullable="false"`)
			}
			if !n.Constraint {
				b.WriteString("/>\n")
				continue
			}
			b.WriteString(`><ReferentialConstraint Property="` + attr(n.From) + `" ReferencedProperty="` + attr(n.To) + `"/></NavigationProperty>` + "\n")
		}
		b.WriteString("</EntityType>\n")
	}
	b.WriteString(`<EntityContainer Name="Container">` + "\n")
	for _, s := range query.Sets() {
		b.WriteString(`<EntitySet Name="` + attr(s.Name) + `" EntityType="` + Namespace + "." + attr(s.Name) + `">`)
		for _, n := range s.Navs() {
			b.WriteString(`<NavigationPropertyBinding Path="` + attr(n.Name) + `" Target="` + attr(n.Target) + `"/>`)
		}
		description(&b, s.Description)
		b.WriteString("</EntitySet>\n")
	}
	b.WriteString(`<Annotation Term="Aggregation.ApplySupported"><Record>` +
		`<PropertyValue Property="Transformations"><Collection>` +
		`<String>filter</String><String>groupby</String><String>aggregate</String>` +
		`</Collection></PropertyValue></Record></Annotation>` + "\n")
	b.WriteString("</EntityContainer>\n</Schema>\n</edmx:DataServices>\n</edmx:Edmx>\n")
	return b.Bytes()
}

func description(b *bytes.Buffer, text string) {
	b.WriteString(`<Annotation Term="Core.Description" String="` + attr(text) + `"/>`)
}

func attr(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// metadata answers $metadata: CSDL XML whatever Accept prefers (docs/powerbi.md, rule 3).
func (s *Service) metadata(w http.ResponseWriter, r *http.Request) error {
	o, err := requestOptions(r)
	if err != nil {
		return err
	}
	if v, ok := o.system["$format"]; ok && (v == "json" || len(v) > 16 && v[:16] == "application/json") {
		return notImplemented("$format", "$metadata is served as CSDL XML only; drop $format=json")
	}
	if err := o.checkFormat("xml"); err != nil {
		return err
	}
	body, finish := start(w, r, MetadataType)
	body.Write(Metadata())
	return finish()
}
