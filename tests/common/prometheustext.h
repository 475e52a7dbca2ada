// SPDX-License-Identifier: Apache-2.0
#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line must
// be a HELP or TYPE comment or a sample of a declared family, label sets well-formed and
// escaped, values numbers, no series twice, a family's TYPE before its samples and once.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QRegularExpression>
#include <QtCore/QString>

#include <cmath>

struct PrometheusText
{
    struct Sample
    {
        QString name;
        QMap<QString, QString> labels;
        double value = 0;
    };
    QHash<QString, QString> types; // family -> counter, gauge, histogram, summary, untyped
    QHash<QString, QString> help;
    QList<Sample> samples;
    QString error; // empty when the text parsed

    // The value of the one sample with that name and exactly these labels; NaN if none.
    double value(const QString &name, const QMap<QString, QString> &labels = {}) const
    {
        for (const Sample &s : samples) {
            if (s.name == name && s.labels == labels)
                return s.value;
        }
        return std::nan("");
    }
    // Sum over the samples of that name whose labels include `match`.
    double sum(const QString &name, const QMap<QString, QString> &match = {}) const
    {
        double total = 0;
        for (const Sample &s : samples) {
            if (s.name != name)
                continue;
            bool ok = true;
            for (auto it = match.cbegin(); it != match.cend() && ok; ++it)
                ok = s.labels.value(it.key()) == it.value();
            if (ok)
                total += s.value;
        }
        return total;
    }

    static PrometheusText parse(const QByteArray &text)
    {
        PrometheusText out;
        if (!text.isEmpty() && !text.endsWith('\n'))
            return out.fail(0, QStringLiteral("the text does not end with a line feed"));
        const QList<QByteArray> lines = text.split('\n');
        QHash<QString, bool> seenSeries;
        for (int i = 0; i < lines.size(); ++i) {
            const QString line = QString::fromUtf8(lines.at(i));
            if (line.isEmpty())
                continue;
            if (line.startsWith(QLatin1Char('#'))) {
                if (!out.comment(line))
                    return out.fail(i + 1, out.error);
                continue;
            }
            Sample s;
            if (!readSample(line, &s, &out.error))
                return out.fail(i + 1, out.error);
            const QString family = out.familyOf(s.name);
            if (family.isEmpty())
                return out.fail(i + 1, QStringLiteral("sample of an undeclared family: ") + s.name);
            QString key = s.name;
            for (auto it = s.labels.cbegin(); it != s.labels.cend(); ++it)
                key += QLatin1Char('|') + it.key() + QLatin1Char('=') + it.value();
            if (seenSeries.contains(key))
                return out.fail(i + 1, QStringLiteral("series twice: ") + key);
            seenSeries.insert(key, true);
            out.samples.append(s);
        }
        return out;
    }

private:
    PrometheusText &fail(int line, const QString &why)
    {
        error = QStringLiteral("line %1: %2").arg(line).arg(why);
        return *this;
    }

    QString familyOf(const QString &name) const
    {
        if (types.contains(name))
            return name;
        for (const char *suffix : {"_bucket", "_sum", "_count"}) {
            if (name.endsWith(QLatin1String(suffix))) {
                const QString base = name.chopped(int(qstrlen(suffix)));
                const QString type = types.value(base);
                if (type == QLatin1String("histogram") || (type == QLatin1String("summary") && qstrcmp(suffix, "_bucket") != 0))
                    return base;
            }
        }
        return {};
    }

    bool comment(const QString &line)
    {
        static const QRegularExpression re(QStringLiteral("^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$"));
        const auto m = re.match(line);
        if (!m.hasMatch())
            return line.startsWith(QLatin1String("# ")) || (error = QStringLiteral("bad comment")).isEmpty();
        const QString name = m.captured(2);
        if (m.captured(1) == QLatin1String("HELP")) {
            help.insert(name, m.captured(3));
            return true;
        }
        static const QStringList kinds = {QStringLiteral("counter"), QStringLiteral("gauge"), QStringLiteral("histogram"),
                                          QStringLiteral("summary"), QStringLiteral("untyped")};
        if (!kinds.contains(m.captured(3)) || types.contains(name)) {
            error = QStringLiteral("bad or repeated TYPE for ") + name;
            return false;
        }
        types.insert(name, m.captured(3));
        return true;
    }

    static bool readSample(const QString &line, Sample *s, QString *error)
    {
        static const QRegularExpression head(QStringLiteral("^([a-zA-Z_:][a-zA-Z0-9_:]*)"));
        const auto m = head.match(line);
        if (!m.hasMatch()) {
            *error = QStringLiteral("no metric name");
            return false;
        }
        s->name = m.captured(1);
        int i = int(m.capturedLength(1));
        if (i < line.size() && line.at(i) == QLatin1Char('{') && !readLabels(line, &i, &s->labels, error))
            return false;
        if (i >= line.size() || line.at(i) != QLatin1Char(' ')) {
            *error = QStringLiteral("no space before the value");
            return false;
        }
        const QStringList rest = line.mid(i + 1).split(QLatin1Char(' '));
        if (rest.isEmpty() || rest.size() > 2) {
            *error = QStringLiteral("value and at most a timestamp expected");
            return false;
        }
        const QString v = rest.first();
        bool ok = true;
        if (v == QLatin1String("+Inf"))
            s->value = INFINITY;
        else if (v == QLatin1String("-Inf"))
            s->value = -INFINITY;
        else if (v == QLatin1String("NaN"))
            s->value = NAN;
        else
            s->value = v.toDouble(&ok);
        if (!ok)
            *error = QStringLiteral("value is not a number: ") + v;
        return ok;
    }

    static bool readLabels(const QString &line, int *pos, QMap<QString, QString> *labels, QString *error)
    {
        static const QRegularExpression name(QStringLiteral("^[a-zA-Z_][a-zA-Z0-9_]*"));
        int i = *pos + 1;
        while (i < line.size() && line.at(i) != QLatin1Char('}')) {
            const auto m = name.match(QStringView(line).mid(i));
            if (!m.hasMatch() || i + m.capturedLength() + 1 >= line.size()
                || line.mid(i + int(m.capturedLength()), 2) != QLatin1String("=\"")) {
                *error = QStringLiteral("bad label at column %1").arg(i);
                return false;
            }
            const QString key = m.captured();
            i += int(m.capturedLength()) + 2;
            QString value;
            while (i < line.size() && line.at(i) != QLatin1Char('"')) {
                if (line.at(i) == QLatin1Char('\\') && i + 1 < line.size()) {
                    const QChar e = line.at(++i);
                    if (e == QLatin1Char('n'))
                        value += QLatin1Char('\n');
                    else if (e == QLatin1Char('\\') || e == QLatin1Char('"'))
                        value += e;
                    else {
                        *error = QStringLiteral("bad escape in a label value");
                        return false;
                    }
                } else {
                    value += line.at(i);
                }
                ++i;
            }
            if (i >= line.size() || labels->contains(key)) {
                *error = QStringLiteral("unterminated or repeated label ") + key;
                return false;
            }
            labels->insert(key, value);
            ++i; // the closing quote
            if (i < line.size() && line.at(i) == QLatin1Char(','))
                ++i;
        }
        if (i >= line.size()) {
            *error = QStringLiteral("unterminated label set");
            return false;
        }
        *pos = i + 1;
        return true;
    }
};
