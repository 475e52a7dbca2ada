// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QList>
#include <QtCore/QStringList>

namespace Cli {

// Text in aligned columns, for people: an optional header row, then the rows, columns two
// spaces apart, left-aligned, plain ASCII. A value; printing goes through printLine().
class Table
{
public:
    // No headers: a table of rows only (key and value lists).
    explicit Table(const QStringList &headers = {});
    void addRow(const QStringList &cells);
    bool isEmpty() const { return m_rows.isEmpty(); }
    // The lines, each prefixed with `indent` spaces; trailing blanks are cut.
    QStringList lines(int indent = 0) const;
    void print(int indent = 0) const;

private:
    QStringList m_headers;
    QList<QStringList> m_rows;
};

} // namespace Cli
