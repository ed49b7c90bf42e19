// Package uitest holds the browser tests of the voter's page and the public
// pages (web/ui): a real headless Chromium, driven by chromedp, against a
// real node (web/webtest) with an open election. It has no code outside
// its tests.
package uitest
