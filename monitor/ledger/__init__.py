"""Import of existing ledgers (舆情台账, 留言板 exports) as historical incidents with their responses."""
