// SPDX-License-Identifier: Apache-2.0
#include "table.h"

#include "cli.h"

namespace Cli {

Table::Table(const QStringList &headers) : m_headers(headers) {}

void Table::addRow(const QStringList &cells)
{
    m_rows.append(cells);
}

QStringList Table::lines(int indent) const
{
    QList<QStringList> all = m_rows;
    if (!m_headers.isEmpty())
        all.prepend(m_headers);
    QList<qsizetype> widths;
    for (const QStringList &row : std::as_const(all)) {
        widths.resize(qMax(widths.size(), row.size()));
        for (qsizetype i = 0; i < row.size(); ++i)
            widths[i] = qMax(widths.at(i), row.at(i).size());
    }
    QStringList out;
    for (const QStringList &row : std::as_const(all)) {
        QString line(indent, QLatin1Char(' '));
        for (qsizetype i = 0; i < row.size(); ++i)
            line += row.at(i).leftJustified(widths.at(i) + 2);
        while (line.endsWith(QLatin1Char(' ')))
            line.chop(1);
        out << line;
    }
    return out;
}

void Table::print(int indent) const
{
    for (const QString &line : lines(indent))
        printLine(line);
}

} // namespace Cli
