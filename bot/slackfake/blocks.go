package slackfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"
)

// Surface is where blocks are shown; each allows its own blocks.
type Surface string

// The surfaces.
const (
	SurfaceMessage Surface = "message"
	SurfaceModal   Surface = "modal"
	SurfaceHome    Surface = "home"
)

// Limits of Block Kit, from Slack's reference pages:
// https://docs.slack.dev/reference/block-kit/blocks (each block's page),
// https://docs.slack.dev/reference/block-kit/block-elements,
// https://docs.slack.dev/reference/block-kit/composition-objects and
// https://docs.slack.dev/reference/views (modal and Home tab views).
const (
	MaxMessageBlocks   = 50   // chat.postMessage: "up to 50 blocks" per message
	MaxViewBlocks      = 100  // views: "Max of 100 blocks"
	MaxSectionText     = 3000 // section text: "Maximum length ... 3000 characters"
	MaxSectionFields   = 10   // section fields: "Maximum number of items is 10"
	MaxFieldText       = 2000 // section fields: "Maximum length for the text in each item is 2000"
	MaxHeaderText      = 150  // header: "Maximum length ... 150 characters"
	MaxBlockID         = 255  // every block: block_id "Maximum length ... 255 characters"
	MaxActionID        = 255  // every interactive element: action_id 255
	MaxButtonText      = 75   // button text: 75
	MaxButtonValue     = 2000 // button value: 2000
	MaxURL             = 3000 // button and option url: 3000
	MaxContextElements = 10   // context: "Maximum number of items is 10"
	MaxActionsElements = 25   // actions: "There is a maximum of 25 elements"
	MaxOverflowOptions = 5    // overflow: "up to five option objects"
	MaxSelectOptions   = 100  // static select: "Maximum number of options is 100"
	MaxOptionText      = 75   // option object text: 75
	MaxOptionValue     = 150  // option object value: 150
	MaxPlaceholder     = 150  // placeholder of select menus and pickers: 150
	MaxAltText         = 2000 // image alt_text: 2000
	MaxMarkdownText    = 12000
	MaxModalTitle      = 24   // modal title, close, submit: 24
	MaxPrivateMetadata = 3000 // views: private_metadata 3000
	MaxCallbackID      = 255  // views: callback_id 255
	MaxConfirmTitle    = 100
	MaxConfirmText     = 300
	MaxConfirmButton   = 30
)

// MaxMessageText is the longest top-level text of a message: "Slack will
// truncate messages containing more than 40,000 characters"
// (https://docs.slack.dev/reference/methods/chat.postMessage#truncating);
// the method answers msg_too_long beyond it.
const MaxMessageText = 40000

// MaxBlocksText is the most text the blocks of one message may hold in all.
// It is not documented: Slack answers msg_blocks_too_long for messages of
// a little over 13,000 characters of block text even when every block is
// within its own limit (slackapi/bolt-js#2509). The fake stops at 13,000.
const MaxBlocksText = 13000

// blockSurfaces lists the blocks each surface allows, from "Available in
// surfaces" on each block's reference page
// (https://docs.slack.dev/reference/block-kit/blocks).
var blockSurfaces = map[string][]Surface{
	"actions":   {SurfaceMessage, SurfaceModal, SurfaceHome},
	"context":   {SurfaceMessage, SurfaceModal, SurfaceHome},
	"divider":   {SurfaceMessage, SurfaceModal, SurfaceHome},
	"file":      {SurfaceMessage},
	"header":    {SurfaceMessage, SurfaceModal, SurfaceHome},
	"image":     {SurfaceMessage, SurfaceModal, SurfaceHome},
	"input":     {SurfaceMessage, SurfaceModal, SurfaceHome},
	"markdown":  {SurfaceMessage},
	"rich_text": {SurfaceMessage, SurfaceModal, SurfaceHome},
	"section":   {SurfaceMessage, SurfaceModal, SurfaceHome},
	"video":     {SurfaceMessage, SurfaceModal, SurfaceHome},
}

var selects = []string{"static_select", "external_select", "users_select", "conversations_select", "channels_select"}

// sectionAccessories and actionsElements are the elements each block
// takes, from "Works with block types" on each element's page
// (https://docs.slack.dev/reference/block-kit/block-elements).
var (
	sectionAccessories = withSelects("button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons", "timepicker", "workflow_button")
	actionsElements    = withSelects("button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons", "timepicker", "workflow_button")
)

// inputElements are the elements an input block takes
// (https://docs.slack.dev/reference/block-kit/blocks/input-block:
// "element: One of the compatible element objects"; the list is
// @slack/types' InputBlockElement,
// https://docs.slack.dev/tools/node-slack-sdk/reference/types/type-aliases/InputBlockElement).
var inputElements = withSelects("checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input",
	"number_input", "plain_text_input", "radio_buttons", "rich_text_input", "timepicker", "url_text_input")

// Limits of the input block and of the elements only it takes.
const (
	MaxInputLabel   = 2000 // input label: "Maximum length ... 2000 characters"
	MaxInputHint    = 2000 // input hint: 2000
	MaxRadioOptions = 10   // radio buttons: "A maximum of 10 options are allowed"
	MaxTextInput    = 3000 // plain-text input: max_length "Maximum value is 3000"
)

var clockTime = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

func withSelects(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	for _, s := range selects {
		out[s] = true
		out["multi_"+s] = true
	}
	return out
}

// Length counts characters as Slack's limits do. Slack does not say which
// unit it counts; the fake counts UTF-16 code units, the strictest reading
// (an emoji outside the Basic Multilingual Plane counts twice).
func Length(s string) int { return len(utf16.Encode([]rune(s))) }

// checker collects the breaches of one payload, each as Slack words its
// invalid_blocks errors: "<problem> [json-pointer:<path>]".
type checker struct {
	surface  Surface
	errs     []string
	blockIDs map[string]bool
	text     int // characters of text in the blocks, for MaxBlocksText
}

func (c *checker) bad(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+path+"]")
}

// CheckBlocks checks blocks, decoded from JSON, for a surface and returns
// every breach; nil means Slack accepts them.
func CheckBlocks(surface Surface, blocks []any) []string {
	c := &checker{surface: surface, blockIDs: map[string]bool{}}
	max := MaxViewBlocks
	if surface == SurfaceMessage {
		max = MaxMessageBlocks
	}
	if len(blocks) > max {
		c.bad("/blocks", "no more than %d items allowed", max)
	}
	for i, b := range blocks {
		c.block(fmt.Sprintf("/blocks/%d", i), b)
	}
	if surface == SurfaceMessage && c.text > MaxBlocksText {
		c.bad("/blocks", "msg_blocks_too_long: %d characters of text, more than %d", c.text, MaxBlocksText)
	}
	return c.errs
}

func (c *checker) block(path string, v any) {
	b, ok := v.(map[string]any)
	if !ok {
		c.bad(path, "must be an object")
		return
	}
	typ, _ := b["type"].(string)
	surfaces, known := blockSurfaces[typ]
	if !known {
		c.bad(path+"/type", "unknown block type %q", typ)
		return
	}
	if !contains(surfaces, c.surface) {
		c.bad(path+"/type", "block type %q is not allowed in a %s", typ, c.surface)
	}
	if id, ok := b["block_id"]; ok {
		s, isString := id.(string)
		switch {
		case !isString || s == "":
			c.bad(path+"/block_id", "must be a non-empty string")
		case Length(s) > MaxBlockID:
			c.bad(path+"/block_id", "must be less than %d characters", MaxBlockID+1)
		case c.blockIDs[s]:
			// "block_id should be unique for each message and each
			// iteration of a message", and within a view.
			c.bad(path+"/block_id", "duplicate block_id %q", s)
		}
		c.blockIDs[s] = true
	}
	switch typ {
	case "section":
		c.section(path, b)
	case "header":
		c.textObject(path+"/text", b["text"], true, MaxHeaderText, true)
	case "context":
		c.context(path, b)
	case "actions":
		c.actions(path, b)
	case "image":
		c.imageFields(path, b)
		if t, ok := b["title"]; ok {
			c.textObject(path+"/title", t, true, MaxAltText, true)
		}
	case "input":
		// https://docs.slack.dev/reference/block-kit/blocks/input-block
		c.textObject(path+"/label", b["label"], true, MaxInputLabel, true)
		if h, ok := b["hint"]; ok {
			c.textObject(path+"/hint", h, true, MaxInputHint, true)
		}
		if _, ok := b["element"].(map[string]any); !ok {
			c.bad(path+"/element", "required")
		} else {
			c.element(path+"/element", b["element"], inputElements, map[string]bool{})
		}
	case "markdown":
		s, _ := b["text"].(string)
		if s == "" || Length(s) > MaxMarkdownText {
			c.bad(path+"/text", "must be 1 to %d characters", MaxMarkdownText)
		}
		c.text += Length(s)
	case "rich_text":
		if els, ok := b["elements"].([]any); !ok || len(els) == 0 {
			c.bad(path+"/elements", "required")
		}
	}
}

// section: https://docs.slack.dev/reference/block-kit/blocks/section-block
func (c *checker) section(path string, b map[string]any) {
	text, hasText := b["text"]
	fields, hasFields := b["fields"]
	if !hasText && !hasFields {
		c.bad(path, "must provide text or fields")
	}
	if hasText {
		c.textObject(path+"/text", text, false, MaxSectionText, false)
	}
	if hasFields {
		fs, ok := fields.([]any)
		if !ok || len(fs) == 0 || len(fs) > MaxSectionFields {
			c.bad(path+"/fields", "must be 1 to %d text objects", MaxSectionFields)
		}
		for i, f := range fs {
			c.textObject(fmt.Sprintf("%s/fields/%d", path, i), f, false, MaxFieldText, false)
		}
	}
	if acc, ok := b["accessory"]; ok {
		actionIDs := map[string]bool{}
		c.element(path+"/accessory", acc, sectionAccessories, actionIDs)
	}
}

// context: https://docs.slack.dev/reference/block-kit/blocks/context-block
func (c *checker) context(path string, b map[string]any) {
	els, ok := b["elements"].([]any)
	if !ok || len(els) == 0 || len(els) > MaxContextElements {
		c.bad(path+"/elements", "must be 1 to %d items", MaxContextElements)
	}
	for i, e := range els {
		p := fmt.Sprintf("%s/elements/%d", path, i)
		m, _ := e.(map[string]any)
		if t, _ := m["type"].(string); t == "image" {
			c.imageFields(p, m)
			continue
		}
		c.textObject(p, e, false, MaxSectionText, false)
	}
}

// actions: https://docs.slack.dev/reference/block-kit/blocks/actions-block
func (c *checker) actions(path string, b map[string]any) {
	els, ok := b["elements"].([]any)
	if !ok || len(els) == 0 || len(els) > MaxActionsElements {
		c.bad(path+"/elements", "must be 1 to %d items", MaxActionsElements)
	}
	actionIDs := map[string]bool{}
	for i, e := range els {
		c.element(fmt.Sprintf("%s/elements/%d", path, i), e, actionsElements, actionIDs)
	}
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// element checks an interactive element. action_id "should be unique
// among all other action_ids in the containing block"
// (https://docs.slack.dev/reference/block-kit/block-elements); Slack
// refuses a block that repeats one.
func (c *checker) element(path string, v any, allowed map[string]bool, actionIDs map[string]bool) {
	e, ok := v.(map[string]any)
	if !ok {
		c.bad(path, "must be an object")
		return
	}
	typ, _ := e["type"].(string)
	if !allowed[typ] {
		c.bad(path+"/type", "element type %q is not allowed here", typ)
		return
	}
	if typ == "image" {
		c.imageFields(path, e)
		return
	}
	if id, ok := e["action_id"]; ok {
		s, _ := id.(string)
		switch {
		case s == "" || Length(s) > MaxActionID:
			c.bad(path+"/action_id", "must be 1 to %d characters", MaxActionID)
		case actionIDs[s]:
			c.bad(path+"/action_id", "duplicate action_id %q in the block", s)
		}
		actionIDs[s] = true
	}
	if conf, ok := e["confirm"]; ok {
		c.confirm(path+"/confirm", conf)
	}
	switch typ {
	case "button":
		// https://docs.slack.dev/reference/block-kit/block-elements/button-element
		c.textObject(path+"/text", e["text"], true, MaxButtonText, true)
		c.maxString(path+"/value", e, "value", MaxButtonValue)
		c.maxString(path+"/url", e, "url", MaxURL)
		if st, ok := e["style"]; ok && st != "primary" && st != "danger" {
			c.bad(path+"/style", "must be primary or danger")
		}
	case "datepicker":
		// https://docs.slack.dev/reference/block-kit/block-elements/date-picker-element
		if d, ok := e["initial_date"].(string); ok && !isoDate.MatchString(d) {
			c.bad(path+"/initial_date", "must be YYYY-MM-DD")
		}
		c.placeholder(path, e)
	case "overflow":
		// https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element
		c.options(path+"/options", e["options"], 1, MaxOverflowOptions, true)
	case "timepicker":
		// https://docs.slack.dev/reference/block-kit/block-elements/time-picker-element:
		// initial_time "in the format HH:mm", "hour in 24-hour format".
		if tm, ok := e["initial_time"]; ok {
			if s, _ := tm.(string); !clockTime.MatchString(s) {
				c.bad(path+"/initial_time", "must be HH:mm")
			}
		}
		c.placeholder(path, e)
	case "datetimepicker":
		// https://docs.slack.dev/reference/block-kit/block-elements/datetime-picker-element:
		// initial_date_time is "the initial date and time ... in UNIX
		// timestamp format", a number of seconds.
		if dt, ok := e["initial_date_time"]; ok {
			if n, isNum := dt.(float64); !isNum || n < 0 || n != float64(int64(n)) {
				c.bad(path+"/initial_date_time", "must be a UNIX timestamp in seconds")
			}
		}
		if _, ok := e["placeholder"]; ok {
			c.bad(path+"/placeholder", "the datetime picker takes no placeholder")
		}
	case "radio_buttons":
		// https://docs.slack.dev/reference/block-kit/block-elements/radio-button-group-element
		c.options(path+"/options", e["options"], 1, MaxRadioOptions, false)
		c.initialOption(path, e)
	case "plain_text_input":
		// https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element
		for _, k := range []string{"min_length", "max_length"} {
			if v, ok := e[k]; ok {
				if n, isNum := v.(float64); !isNum || n < 0 || n > MaxTextInput {
					c.bad(path+"/"+k, "must be 0 to %d", MaxTextInput)
				}
			}
		}
		c.placeholder(path, e)
	default:
		if strings.HasSuffix(typ, "external_select") {
			// https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select:
			// options come from the app's options load URL; an
			// initial_option is a single option object.
			if _, ok := e["options"]; ok {
				c.bad(path+"/options", "an external select takes no options")
			}
			if io, ok := e["initial_option"]; ok {
				c.options(path+"/initial_option", []any{io}, 1, 1, false)
			}
			if n, ok := e["min_query_length"]; ok {
				if v, isNum := n.(float64); !isNum || v < 0 {
					c.bad(path+"/min_query_length", "must be a non-negative number")
				}
			}
		}
		if strings.HasSuffix(typ, "static_select") {
			// https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element
			_, hasOpts := e["options"]
			_, hasGroups := e["option_groups"]
			if hasOpts == hasGroups {
				c.bad(path, "must provide options or option_groups")
			}
			if hasOpts {
				c.options(path+"/options", e["options"], 1, MaxSelectOptions, false)
				c.initialOption(path, e)
			}
		}
		if strings.HasSuffix(typ, "_select") {
			c.placeholder(path, e)
		}
	}
}

// initialOption: "initial_option: A single option that exactly matches
// one of the options within options"
// (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#static_select,
// and the radio button group's page). Slack refuses one that does not.
func (c *checker) initialOption(path string, e map[string]any) {
	io, ok := e["initial_option"]
	if !ok {
		return
	}
	want, _ := json.Marshal(io)
	opts, _ := e["options"].([]any)
	for _, o := range opts {
		if got, _ := json.Marshal(o); string(got) == string(want) {
			return
		}
	}
	c.bad(path+"/initial_option", "must match one of the options exactly")
}

// CheckOptions checks an app's answer to a block_suggestion request: a
// JSON object with options (at most 100) or option_groups
// (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select:
// "Slack ... expects a response with ... options or option_groups").
func CheckOptions(raw []byte) []string {
	var resp map[string]any
	if err := json.Unmarshal(raw, &resp); err != nil {
		return []string{"response is not a JSON object: " + err.Error()}
	}
	c := &checker{blockIDs: map[string]bool{}}
	opts, hasOpts := resp["options"]
	_, hasGroups := resp["option_groups"]
	switch {
	case hasOpts == hasGroups:
		c.bad("", "must have options or option_groups")
	case hasOpts:
		if list, _ := opts.([]any); len(list) > 0 {
			c.options("/options", opts, 0, MaxSelectOptions, false)
		} else if _, isList := opts.([]any); !isList {
			c.bad("/options", "must be an array")
		}
	}
	return c.errs
}

// CheckSubmissionResponse checks an app's answer to a view_submission
// with a response_action (https://docs.slack.dev/surfaces/modals):
// "errors" maps block_ids of the view's input blocks to messages.
func CheckSubmissionResponse(raw []byte, view map[string]any) []string {
	var resp map[string]any
	if err := json.Unmarshal(raw, &resp); err != nil {
		return []string{"response is not a JSON object: " + err.Error()}
	}
	c := &checker{blockIDs: map[string]bool{}}
	switch resp["response_action"] {
	case "errors":
		errs, ok := resp["errors"].(map[string]any)
		if !ok || len(errs) == 0 {
			c.bad("/errors", "required with response_action errors")
		}
		inputs := map[string]bool{}
		blocks, _ := view["blocks"].([]any)
		for _, b := range blocks {
			if m, _ := b.(map[string]any); m["type"] == "input" {
				id, _ := m["block_id"].(string)
				inputs[id] = true
			}
		}
		for id, msg := range errs {
			if !inputs[id] {
				c.bad("/errors/"+id, "names no input block of the view")
			}
			if s, _ := msg.(string); s == "" {
				c.bad("/errors/"+id, "must be a message")
			}
		}
	case "clear", "update", "push":
	default:
		c.bad("/response_action", "must be errors, update, push or clear")
	}
	return c.errs
}

func (c *checker) placeholder(path string, e map[string]any) {
	if p, ok := e["placeholder"]; ok {
		c.textObject(path+"/placeholder", p, true, MaxPlaceholder, true)
	}
}

// options: https://docs.slack.dev/reference/block-kit/composition-objects/option-object
func (c *checker) options(path string, v any, least, most int, urls bool) {
	opts, ok := v.([]any)
	if !ok || len(opts) < least || len(opts) > most {
		c.bad(path, "must be %d to %d options", least, most)
	}
	for i, o := range opts {
		p := fmt.Sprintf("%s/%d", path, i)
		m, ok := o.(map[string]any)
		if !ok {
			c.bad(p, "must be an object")
			continue
		}
		c.textObject(p+"/text", m["text"], true, MaxOptionText, true)
		c.maxString(p+"/value", m, "value", MaxOptionValue)
		if d, ok := m["description"]; ok {
			c.textObject(p+"/description", d, true, MaxOptionText, true)
		}
		if _, ok := m["url"]; ok && !urls {
			c.bad(p+"/url", "only overflow menu options take a url")
		}
		c.maxString(p+"/url", m, "url", MaxURL)
	}
}

// confirm: https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object
func (c *checker) confirm(path string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.bad(path, "must be an object")
		return
	}
	c.textObject(path+"/title", m["title"], true, MaxConfirmTitle, true)
	c.textObject(path+"/text", m["text"], false, MaxConfirmText, true)
	c.textObject(path+"/confirm", m["confirm"], true, MaxConfirmButton, true)
	c.textObject(path+"/deny", m["deny"], true, MaxConfirmButton, true)
}

// imageFields: https://docs.slack.dev/reference/block-kit/blocks/image-block
func (c *checker) imageFields(path string, m map[string]any) {
	_, url := m["image_url"]
	_, file := m["slack_file"]
	if url == file {
		c.bad(path, "must provide image_url or slack_file")
	}
	c.maxString(path+"/image_url", m, "image_url", MaxURL)
	alt, _ := m["alt_text"].(string)
	if alt == "" || Length(alt) > MaxAltText {
		c.bad(path+"/alt_text", "must be 1 to %d characters", MaxAltText)
	}
}

func (c *checker) maxString(path string, m map[string]any, key string, max int) {
	v, ok := m[key]
	if !ok {
		return
	}
	s, isString := v.(string)
	if !isString || Length(s) > max {
		c.bad(path, "must be a string of at most %d characters", max)
	}
}

// textObject checks a text object
// (https://docs.slack.dev/reference/block-kit/composition-objects/text-object):
// type plain_text or mrkdwn, text "minimum 1 and maximum 3000 characters"
// (or the field's own limit), emoji only for plain_text, verbatim only for
// mrkdwn.
func (c *checker) textObject(path string, v any, plainOnly bool, max int, required bool) {
	if v == nil {
		if required {
			c.bad(path, "required")
		}
		return
	}
	t, ok := v.(map[string]any)
	if !ok {
		c.bad(path, "must be a text object")
		return
	}
	typ, _ := t["type"].(string)
	switch {
	case typ != "plain_text" && typ != "mrkdwn":
		c.bad(path+"/type", "must be plain_text or mrkdwn")
	case plainOnly && typ != "plain_text":
		c.bad(path+"/type", "must be plain_text")
	}
	if _, ok := t["emoji"]; ok && typ == "mrkdwn" {
		c.bad(path+"/emoji", "only plain_text takes emoji")
	}
	if _, ok := t["verbatim"]; ok && typ == "plain_text" {
		c.bad(path+"/verbatim", "only mrkdwn takes verbatim")
	}
	s, _ := t["text"].(string)
	n := Length(s)
	switch {
	case n == 0:
		c.bad(path+"/text", "must be more than 0 characters")
	case n > max:
		c.bad(path+"/text", "must be less than %d characters", max+1)
	}
	c.text += n
}

// CheckView checks a view, decoded from JSON, as views.publish (home) or
// views.open (modal) take it (https://docs.slack.dev/reference/views).
func CheckView(surface Surface, view map[string]any) []string {
	c := &checker{surface: surface, blockIDs: map[string]bool{}}
	if typ, _ := view["type"].(string); typ != string(surface) {
		c.bad("/type", "must be %q", surface)
	}
	blocks, ok := view["blocks"].([]any)
	if !ok {
		c.bad("/blocks", "required")
	}
	c.errs = append(c.errs, CheckBlocks(surface, blocks)...)
	c.maxString("/private_metadata", view, "private_metadata", MaxPrivateMetadata)
	c.maxString("/callback_id", view, "callback_id", MaxCallbackID)
	if surface == SurfaceModal {
		c.textObject("/title", view["title"], true, MaxModalTitle, true)
		for _, k := range []string{"close", "submit"} {
			if v, ok := view[k]; ok {
				c.textObject("/"+k, v, true, MaxModalTitle, true)
			}
		}
		if _, ok := view["submit"]; !ok && hasInput(blocks) {
			c.bad("/submit", "required when the view has input blocks")
		}
	}
	return c.errs
}

func hasInput(blocks []any) bool {
	for _, b := range blocks {
		if m, _ := b.(map[string]any); m["type"] == "input" {
			return true
		}
	}
	return false
}

// decodeBlocks reads the blocks argument: a JSON array, either as a
// string (form encoding) or already decoded (JSON body).
func decodeBlocks(v any) ([]any, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return b, nil
	case string:
		if b == "" {
			return nil, nil
		}
		var out []any
		if err := json.Unmarshal([]byte(b), &out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("blocks must be an array")
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
