<?xml version="1.0" encoding="utf-8"?>
<!--
  feedwright's feed stylesheet: a browser that opens atom.xml, rss.xml or an archive document
  shows this readable page instead of raw XML. Feed readers ignore it.
  Override it with a file named feed.xsl in the templates/ folder next to config.toml.
  XSLT 1.0 only (what browsers run); no disable-output-escaping (Firefox ignores it), so
  entries show their plain-text summary, not their HTML.
  Languages: the page's lang is the feed's ([[feed]] language: Atom xml:lang, RSS language),
  none when the feed names none; this stylesheet's own English words are marked lang="en".
  Each piece of feed text (titles, summaries, names) has dir="auto", so right-to-left text
  takes its own direction without reordering what is around it.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:fh="http://purl.org/syndication/history/1.0"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom fh dc">
  <xsl:output method="html" encoding="utf-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <html>
      <xsl:if test="atom:feed/@xml:lang | rss/channel/language">
        <xsl:attribute name="lang">
          <xsl:value-of select="atom:feed/@xml:lang | rss/channel/language"/>
        </xsl:attribute>
      </xsl:if>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:feed/atom:title | rss/channel/title"/> (feed)</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
                 padding: 0 1rem; color: #1b1b1b; background: #fff; }
          .note { background: #eef4fb; border-left: 4px solid #3b73b9; padding: .75rem 1rem; }
          .note code { word-break: break-all; }
          h1 { margin-bottom: .25rem; }
          article { border-top: 1px solid #ddd; padding: .75rem 0; }
          article h2 { font-size: 1.15rem; margin: 0 0 .25rem; }
          .meta { color: #555; font-size: .9rem; }
          nav a { margin-right: 1rem; }
          @media (prefers-color-scheme: dark) {
            body { color: #e8e8e8; background: #161616; }
            a { color: #8ab4f8; }
            .note { background: #1f2a38; }
            .meta { color: #aaa; }
            article { border-color: #333; }
          }
        </style>
      </head>
      <body>
        <xsl:apply-templates select="atom:feed | rss/channel"/>
      </body>
    </html>
  </xsl:template>

  <!-- Atom head and archive documents -->
  <xsl:template match="atom:feed">
    <p class="note" lang="en">
      <xsl:choose>
        <xsl:when test="fh:archive">
          This is an archive page of a web feed: older posts, kept so feed readers can recover
          the whole history.
        </xsl:when>
        <xsl:otherwise>
          This is a web feed. Copy its address into your feed reader to subscribe:
          <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code>
        </xsl:otherwise>
      </xsl:choose>
    </p>
    <h1 dir="auto"><xsl:value-of select="atom:title"/></h1>
    <p dir="auto"><xsl:value-of select="atom:subtitle"/></p>
    <nav lang="en">
      <xsl:if test="atom:link[@rel='alternate']">
        <a href="{atom:link[@rel='alternate']/@href}">Website</a>
      </xsl:if>
      <xsl:if test="atom:link[@rel='current']">
        <a href="{atom:link[@rel='current']/@href}">Newest posts</a>
      </xsl:if>
      <xsl:if test="atom:link[@rel='next-archive']">
        <a href="{atom:link[@rel='next-archive']/@href}">Newer archive</a>
      </xsl:if>
      <xsl:if test="atom:link[@rel='prev-archive']">
        <a href="{atom:link[@rel='prev-archive']/@href}">Older posts</a>
      </xsl:if>
    </nav>
    <xsl:for-each select="atom:entry">
      <article>
        <h2 dir="auto"><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
        <p class="meta">
          <xsl:value-of select="substring(atom:published, 1, 10)"/>
          <xsl:for-each select="atom:author/atom:name">
            <xsl:text> · </xsl:text><span dir="auto"><xsl:value-of select="."/></span>
          </xsl:for-each>
        </p>
        <p dir="auto"><xsl:value-of select="atom:summary"/></p>
      </article>
    </xsl:for-each>
  </xsl:template>

  <!-- RSS 2.0 -->
  <xsl:template match="rss/channel">
    <p class="note" lang="en">
      This is a web feed. Copy its address into your feed reader to subscribe:
      <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code>
    </p>
    <h1 dir="auto"><xsl:value-of select="title"/></h1>
    <p dir="auto"><xsl:value-of select="description"/></p>
    <nav lang="en">
      <a href="{link}">Website</a>
      <xsl:if test="atom:link[@rel='prev-archive']">
        <a href="{atom:link[@rel='prev-archive']/@href}">Older posts</a>
      </xsl:if>
    </nav>
    <xsl:for-each select="item">
      <article>
        <h2 dir="auto"><a href="{link}"><xsl:value-of select="title"/></a></h2>
        <p class="meta">
          <xsl:value-of select="substring(pubDate, 6, 11)"/>
          <xsl:for-each select="dc:creator">
            <xsl:text> · </xsl:text><span dir="auto"><xsl:value-of select="."/></span>
          </xsl:for-each>
        </p>
        <!-- description holds the summary escaped as HTML, which XSLT 1.0 cannot unescape
             portably: the Atom document shows summaries, this one only the headlines. -->
      </article>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
